// Writes a catalog into a fresh temporary folder for one test and removes it afterwards,
// so bad-catalog tests never edit fixtures in place and can run in parallel.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";

export const ROOT_FILE = `registry: 127.0.0.1:5000
namespace: test
vendor: stackable
tagScheme: stackable
platforms: [linux/amd64]
`;

export const BASE_IMAGE = `kind: base
versions:
  - productVersion: "12"
    imageVersion: 0.1.0
`;

export const APP_IMAGE = `kind: product
testSuite: kafka
versions:
  - productVersion: 1.0.0
    imageVersion: 0.1.0
    dependencies:
      base: "12"
`;

/** A small valid catalog: `base` 12 and `app` 1.0.0 built on it. */
export const VALID_FILES: Readonly<Record<string, string>> = {
  "imagewright.yaml": ROOT_FILE,
  "images/base/image.yaml": BASE_IMAGE,
  "images/base/Dockerfile": "FROM scratch\n",
  "images/app/image.yaml": APP_IMAGE,
  "images/app/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
};

/**
 * A catalog folder made of the valid files overlaid with `files` (null removes a
 * file); removed when the test ends, pass or fail.
 */
export function tempCatalog(t: TestContext, files: Record<string, string | null> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "imagewright-catalog-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const merged: Record<string, string | null> = { ...VALID_FILES, ...files };
  for (const [path, text] of Object.entries(merged)) {
    if (text === null) continue;
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return root;
}
