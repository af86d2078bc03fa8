import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { CatalogInvalidError, loadCatalog } from "../../src/catalog/index.ts";
import { isImagewrightError } from "../../src/errors/index.ts";
import { tempCatalog } from "./temp-catalog.ts";

/** Loading either succeeds or fails with imagewright's own error, never with a crash. */
function assertLoadsOrRefuses(root: string): void {
  try {
    loadCatalog(root);
  } catch (error) {
    assert.ok(isImagewrightError(error), `not an ImagewrightError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (error instanceof CatalogInvalidError) {
      for (const problem of error.problems) {
        assert.ok(problem.line >= 1 && problem.column >= 1, JSON.stringify(problem));
        assert.ok(problem.message.length > 0);
      }
    }
  }
}

// Values of every kind YAML can carry, to put where the catalog expects something else.
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.constantFrom("../x", "/etc/passwd", "Dockerfile", "1.0.0", "0.1.0", "linux/amd64", "end-of-life", "base", "12", "app"),
);

const nearlyValidVersion = fc.record(
  {
    productVersion: fc.oneof(fc.constantFrom("1.0.0", "12", "2.13"), anyValue),
    imageVersion: fc.oneof(fc.constant("0.1.0"), anyValue),
    dockerfile: anyValue,
    buildArgs: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), anyValue),
    dependencies: fc.oneof(fc.constant({ base: "12" }), fc.constant({ app: "1.0.0" }), fc.dictionary(fc.string(), anyValue), anyValue),
    platforms: fc.oneof(fc.constant(["linux/amd64"]), anyValue),
    support: fc.oneof(fc.constantFrom("supported", "end-of-life"), fc.record({ status: anyValue, endOfLife: anyValue }), anyValue),
    testSuite: anyValue,
    artifact: fc.oneof(fc.record({ url: fc.oneof(fc.constant("https://x.example/{productVersion}.tgz"), anyValue) }), anyValue),
  },
  { requiredKeys: ["productVersion", "imageVersion"] },
);

const nearlyValidImage = fc.record(
  {
    kind: fc.oneof(fc.constantFrom("product", "base"), anyValue),
    dockerfile: anyValue,
    context: anyValue,
    versions: fc.oneof(fc.array(nearlyValidVersion, { maxLength: 4 }), anyValue),
    typo: anyValue,
  },
  { requiredKeys: ["kind", "versions"] },
);

describe("loading arbitrary image files", () => {
  it("never crashes on arbitrary text", (t) => {
    const root = tempCatalog(t);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        writeFileSync(join(root, "images/app/image.yaml"), text);
        assertLoadsOrRefuses(root);
      }),
      { numRuns: 150 },
    );
  });

  it("never crashes on nearly valid image files, and points every problem at a real position", (t) => {
    const root = tempCatalog(t);
    fc.assert(
      fc.property(nearlyValidImage, (image) => {
        writeFileSync(join(root, "images/app/image.yaml"), stringify(image));
        assertLoadsOrRefuses(root);
      }),
      { numRuns: 300 },
    );
  });
});
