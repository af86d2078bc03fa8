// The adapters read report shapes the scanners really produce: trivy v0.67.2's and
// osv-scanner v2.5.0's output captured over the bookworm base and Kafka 3.9.1 images (see
// reports/README.md), and grype's JSON presenter golden file from grype v0.110.0's own
// tests (grype has no database here to produce a live report).

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { isImagewrightError } from "../../src/errors/index.ts";
import { mergeFindings, parseGrypeReport, parseOsvReport, parseTrivyReport, purlKey } from "../../src/scan/index.ts";

const report = (name: string): Promise<string> => readFile(new URL(`./reports/${name}`, import.meta.url), "utf8");

test("grype's JSON document: ids, fix state, purl, severity words", async () => {
  const findings = parseGrypeReport(await report("grype-0.110.0-presenter-golden.json"));
  assert.deepEqual(
    findings.map((f) => [f.id, f.package.name, f.package.type, f.package.installedVersion, f.fixedVersions, f.severity, f.scanners]),
    [
      ["CVE-1999-0001", "package-1", "rpm", "1.1.1", ["1.2.1", "2.1.3", "3.4.0"], "low", ["grype"]],
      ["CVE-1999-0002", "package-2", "deb", "2.2.2", [], "critical", ["grype"]],
    ],
  );
  // grype gave package-1 no purl: one is made so findings still merge and dedupe.
  assert.equal(findings[0]?.package.purl, "pkg:rpm/package-1@1.1.1");
  assert.equal(findings[1]?.package.purl, "pkg:deb/package-2@2.2.2");
});

for (const [name, parse] of [
  ["trivy", parseTrivyReport],
  ["grype", parseGrypeReport],
  ["osv-scanner", parseOsvReport],
] as const) {
  test(`${name}: output that is not its report is invalid input with a place`, () => {
    assert.throws(
      () => parse('{"SchemaVersion": 2, "Results": [', `${name} report`),
      (error: unknown) => isImagewrightError(error) && error.kind === "invalid-input" && /^byte \d+$/.test(error.place ?? "") && error.message.includes(`${name} report is not JSON`),
    );
    assert.throws(
      () => parse('{"some": "other JSON"}', `${name} report`),
      (error: unknown) => isImagewrightError(error) && error.kind === "invalid-input" && (error.place ?? "").startsWith("$"),
    );
  });
}

test("osv-scanner: the source package keys the advisory; the binary is what is installed; groups give severity", () => {
  // The shape osv-scanner v2's JSON output has (results → packages → vulnerabilities, groups,
  // image_metadata.layer_metadata), with records from fixtures/advisories.
  const text = JSON.stringify({
    results: [
      {
        source: { path: "/var/lib/dpkg/status", type: "lockfile" },
        packages: [
          {
            package: { name: "zlib", os_package_name: "zlib1g", version: "1:1.2.13.dfsg-1", ecosystem: "Debian:12", image_origin_details: { index: 0 } },
            vulnerabilities: [
              {
                id: "DEBIAN-CVE-2023-45853",
                upstream: ["CVE-2023-45853"],
                affected: [{ package: { ecosystem: "Debian:12", name: "zlib" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }] }],
              },
            ],
            groups: [{ ids: ["DEBIAN-CVE-2023-45853"], aliases: ["CVE-2023-45853", "DEBIAN-CVE-2023-45853"], max_severity: "9.8" }],
          },
          {
            package: { name: "commons-beanutils:commons-beanutils", version: "1.9.4", ecosystem: "Maven" },
            vulnerabilities: [
              {
                id: "GHSA-wxr5-93ph-8wr9",
                aliases: ["CVE-2025-48734"],
                summary: "Apache Commons BeanUtils vulnerable to Improper Access Control",
                affected: [{ package: { ecosystem: "Maven", name: "commons-beanutils:commons-beanutils" }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0" }, { fixed: "1.11.0" }] }] }],
                database_specific: { severity: "HIGH" },
              },
            ],
            groups: [{ ids: ["GHSA-wxr5-93ph-8wr9"], aliases: ["CVE-2025-48734", "GHSA-wxr5-93ph-8wr9"], max_severity: "" }],
          },
        ],
      },
    ],
    image_metadata: { layer_metadata: [{ diff_id: "sha256:" + "a".repeat(64), command: "" }] },
  });
  const findings = parseOsvReport(text);
  assert.deepEqual(
    findings.map((f) => [f.id, f.aliases, f.package.name, f.package.sourceName, f.package.purl, f.fixedVersions, f.severity, f.severitySource, f.layer?.diffId]),
    [
      ["DEBIAN-CVE-2023-45853", ["CVE-2023-45853"], "zlib1g", "zlib", "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1", [], "critical", "cvss", "sha256:" + "a".repeat(64)],
      ["GHSA-wxr5-93ph-8wr9", ["CVE-2025-48734"], "commons-beanutils:commons-beanutils", undefined, "pkg:maven/commons-beanutils/commons-beanutils@1.9.4", ["1.11.0"], "high", "ghsa", undefined],
    ],
  );
  // merged with trivy's view of the same zlib finding, the CVE id wins
  const merged = mergeFindings([...findings, { ...findings[0]!, id: "CVE-2023-45853", aliases: [], package: { ...findings[0]!.package, purl: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12.12" }, scanners: ["trivy"] }]);
  assert.equal(merged.length, 2);
  assert.equal(merged[0]?.id, "CVE-2023-45853");
  assert.deepEqual(merged[0]?.scanners, ["osv-scanner", "trivy"]);
});

test("trivy over the bookworm base: Debian findings with source packages, epochs, layers and severity sources", async () => {
  const findings = parseTrivyReport(await report("trivy-0.67.2-debian-bookworm.json"));
  assert.deepEqual(
    findings.map((f) => `${f.id} ${f.package.name}${f.package.sourceName === undefined ? "" : ` (${f.package.sourceName})`} ${f.severity}/${f.severitySource}`).sort(),
    [
      "CVE-2005-2541 tar low/debian",
      "CVE-2011-3374 apt low/debian",
      "CVE-2011-3374 libapt-pkg6.0 (apt) low/debian",
      "CVE-2016-2781 coreutils low/debian",
      "CVE-2022-27943 gcc-12-base (gcc-12) low/debian",
      "CVE-2022-27943 libgcc-s1 (gcc-12) low/debian",
      "CVE-2022-27943 libstdc++6 (gcc-12) low/debian",
      "CVE-2023-45853 zlib1g (zlib) critical/nvd",
    ],
  );
  const zlib = findings.find((f) => f.id === "CVE-2023-45853");
  assert.equal(zlib?.package.installedVersion, "1:1.2.13.dfsg-1");
  assert.equal(zlib?.package.purl, "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.15&epoch=1");
  assert.equal(purlKey(zlib?.package.purl ?? ""), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
  assert.deepEqual(zlib?.fixedVersions, []);
  assert.match(zlib?.layer?.diffId ?? "", /^sha256:[0-9a-f]{64}$/);
});

test("trivy over Kafka 3.9.1: Maven findings with fixes and jar paths; Debian and Maven findings side by side", async () => {
  const findings = parseTrivyReport(await report("trivy-0.67.2-kafka-3.9.1.json"));
  const maven = findings.filter((f) => f.package.type === "maven");
  assert.deepEqual(
    maven.map((f) => [f.id, f.package.name, f.package.installedVersion, f.fixedVersions, f.severity, f.severitySource, f.package.path]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    [
      ["CVE-2025-48734", "commons-beanutils:commons-beanutils", "1.9.4", ["1.11.0"], "high", "ghsa", "opt/kafka/libs/commons-beanutils-1.9.4.jar"],
      ["CVE-2024-47535", "io.netty:netty-common", "4.1.105.Final", ["4.1.115.Final"], "medium", "ghsa", "opt/kafka/libs/netty-common-4.1.105.Final.jar"],
      ["CVE-2025-48924", "org.apache.commons:commons-lang3", "3.12.0", ["3.18.0"], "medium", "ghsa", "opt/kafka/libs/commons-lang3-3.12.0.jar"],
    ],
  );
  assert.equal(findings.filter((f) => f.package.type === "deb").length, 8);
  // The jar layer and the Debian layer are different layers of the image.
  const jarLayer = maven[0]?.layer?.diffId;
  const debLayer = findings.find((f) => f.package.type === "deb")?.layer?.diffId;
  assert.ok(jarLayer !== undefined && debLayer !== undefined && jarLayer !== debLayer);
});

test("osv-scanner over Kafka 3.9.1: the same advisories as trivy, keyed on source packages, and one finding each after merging", async () => {
  const osv = parseOsvReport(await report("osv-scanner-2.5.0-kafka-3.9.1.json"));
  assert.deepEqual(
    osv.map((f) => `${f.id} ${f.package.name}${f.package.sourceName === undefined ? "" : ` (${f.package.sourceName})`} ${f.severity} ${f.fixedVersions.join(",") || "-"}`).sort(),
    [
      "DEBIAN-CVE-2005-2541 tar low -", // no CVSS: the Debian urgency (unimportant)
      "DEBIAN-CVE-2011-3374 apt low -",
      "DEBIAN-CVE-2011-3374 libapt-pkg6.0 (apt) low -",
      "DEBIAN-CVE-2016-2781 coreutils medium -",
      "DEBIAN-CVE-2022-27943 gcc-12-base (gcc-12) medium -",
      "DEBIAN-CVE-2022-27943 libgcc-s1 (gcc-12) medium -",
      "DEBIAN-CVE-2022-27943 libstdc++6 (gcc-12) medium -",
      "DEBIAN-CVE-2023-45853 zlib1g (zlib) critical -",
      "GHSA-j288-q9x7-2f5v org.apache.commons:commons-lang3 medium 3.18.0",
      "GHSA-wxr5-93ph-8wr9 commons-beanutils:commons-beanutils high 1.11.0",
      "GHSA-xq3w-v528-46rv io.netty:netty-common medium 4.1.115.Final",
    ],
  );
  assert.ok(osv.every((f) => /^sha256:[0-9a-f]{64}$/.test(f.layer?.diffId ?? "")), "every finding has its layer");

  const trivy = parseTrivyReport(await report("trivy-0.67.2-kafka-3.9.1.json"));
  const merged = mergeFindings([...trivy, ...osv]);
  assert.equal(merged.length, trivy.length, "every osv-scanner finding met trivy's");
  assert.ok(merged.every((f) => f.scanners.join(",") === "osv-scanner,trivy"), merged.map((f) => `${f.id}:${f.scanners.join(",")}`).join(" "));
  const beanutils = merged.find((f) => f.id === "CVE-2025-48734");
  assert.deepEqual(beanutils?.aliases, ["GHSA-wxr5-93ph-8wr9"]);
  assert.equal(beanutils?.package.path, "opt/kafka/libs/commons-beanutils-1.9.4.jar");
  // Debian rates coreutils' CVE unimportant (trivy: low), NVD 6.5 (osv-scanner: medium): the higher stays.
  assert.equal(merged.find((f) => f.id === "CVE-2016-2781")?.severity, "medium");
});

test("osv-scanner over the bookworm base finds nothing the advisories say is fixed or of another release", async () => {
  const ids = parseOsvReport(await report("osv-scanner-2.5.0-debian-bookworm.json")).map((f) => f.id);
  assert.equal(ids.length, 8);
  for (const absent of ["DEBIAN-CVE-2023-4911", "DEBIAN-CVE-2023-47038", "DEBIAN-CVE-2024-3094"]) assert.ok(!ids.includes(absent), absent);
});
