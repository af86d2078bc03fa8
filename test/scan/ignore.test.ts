import assert from "node:assert/strict";
import { test } from "node:test";
import { isImagewrightError } from "../../src/errors/index.ts";
import { applyIgnores, parseIgnoreFile } from "../../src/scan/index.ts";
import type { Finding } from "../../src/scan/index.ts";

function finding(id: string, name: string, aliases: string[] = [], sourceName?: string): Finding {
  return {
    id,
    aliases,
    package: { name, purl: `pkg:deb/debian/${name}@1.0`, type: "deb", installedVersion: "1.0", ...(sourceName === undefined ? {} : { sourceName }) },
    fixedVersions: [],
    severity: "low",
    severitySource: "debian",
    scanners: ["trivy"],
  };
}

const FILE = `# accepted risks
ignore:
  - id: CVE-2011-3374
    package: apt
    reason: apt-key is not used in our images
    expires: 2027-01-31
  - id: GHSA-wxr5-93ph-8wr9
    reason: BeanUtils is not reachable from Kafka's code paths
    expires: 2026-01-31
  - id: CVE-2022-27943
    package: gcc-12
    reason: no compiler in the image
    expires: 2026-11-21
`;

test("an ignore file parses into entries with their places", () => {
  const entries = parseIgnoreFile(FILE, "ignore.yaml");
  assert.deepEqual(
    entries.map((e) => [e.id, e.package, e.expires, e.place]),
    [
      ["CVE-2011-3374", "apt", "2027-01-31", "ignore.yaml:3:5"],
      ["GHSA-wxr5-93ph-8wr9", undefined, "2026-01-31", "ignore.yaml:7:5"],
      ["CVE-2022-27943", "gcc-12", "2026-11-21", "ignore.yaml:10:5"],
    ],
  );
});

test("valid entries ignore; an expired one stops ignoring and is reported; the last day still ignores", () => {
  const entries = parseIgnoreFile(FILE, "ignore.yaml");
  const findings = [
    finding("CVE-2011-3374", "apt"),
    finding("CVE-2025-48734", "commons-beanutils:commons-beanutils", ["GHSA-wxr5-93ph-8wr9"]),
    finding("CVE-2022-27943", "libgcc-s1", [], "gcc-12"),
    finding("CVE-2011-3374", "not-apt"),
  ];
  const outcome = applyIgnores(findings, entries, new Date("2026-11-21T23:59:00Z"));
  assert.deepEqual(
    outcome.findings.map((f) => [f.id, f.package.name, f.ignored?.expires]),
    [
      ["CVE-2011-3374", "apt", "2027-01-31"],
      ["CVE-2025-48734", "commons-beanutils:commons-beanutils", undefined],
      // matched through the source package name, on its last valid day
      ["CVE-2022-27943", "libgcc-s1", "2026-11-21"],
      // the entry names package apt only
      ["CVE-2011-3374", "not-apt", undefined],
    ],
  );
  assert.deepEqual(outcome.expired.map((e) => e.id), ["GHSA-wxr5-93ph-8wr9"]);
  assert.deepEqual(outcome.unused, []);

  const dayAfter = applyIgnores(findings, entries, new Date("2026-11-22T00:00:01Z"));
  assert.equal(dayAfter.findings[2]?.ignored, undefined);
  assert.deepEqual(dayAfter.expired.map((e) => e.id), ["GHSA-wxr5-93ph-8wr9", "CVE-2022-27943"]);
});

for (const [name, text, message, place] of [
  ["no reason", "ignore:\n  - id: CVE-1\n    expires: 2027-01-01\n", /needs `reason`/, "f.yaml:2:5"],
  ["no expiry", "ignore:\n  - id: CVE-1\n    reason: x\n", /needs `expires`/, "f.yaml:2:5"],
  ["a date that is not one", "ignore:\n  - id: CVE-1\n    reason: x\n    expires: 2027-02-30x\n", /not a date/, "f.yaml:4:14"],
  ["an unknown key", "ignore:\n  - id: CVE-1\n    reason: x\n    expires: 2027-01-01\n    until: 2028-01-01\n", /unknown key "until"/, "f.yaml:5:5"],
  ["not a list", "ignore: CVE-1\n", /must be a list/, "f.yaml:1:9"],
  ["broken YAML", "ignore:\n  - id: [CVE-1\n", /.+/, "f.yaml:"],
] as const) {
  test(`an ignore file with ${name} is refused with its place`, () => {
    assert.throws(
      () => parseIgnoreFile(text, "f.yaml"),
      (error: unknown) => isImagewrightError(error) && error.kind === "invalid-input" && message.test(error.message) && (error.place ?? "").startsWith(place) && error.input === "ignore file f.yaml",
    );
  });
}
