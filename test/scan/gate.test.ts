import assert from "node:assert/strict";
import { test } from "node:test";
import { decideGate } from "../../src/scan/index.ts";
import type { Finding, ImageScan, ScannerStatus, Severity } from "../../src/scan/index.ts";

function image(severities: Severity[], scanners: ScannerStatus["state"][] = ["ok"], ignored: boolean[] = []): ImageScan {
  const findings: Finding[] = severities.map((severity, i) => ({
    id: `CVE-2024-${1000 + i}`,
    aliases: [],
    package: { name: "p", purl: "pkg:deb/debian/p@1", type: "deb", installedVersion: "1" },
    fixedVersions: [],
    severity,
    severitySource: "nvd",
    scanners: ["trivy"],
    ...(ignored[i] === true ? { ignored: { reason: "r", expires: "2099-01-01" } } : {}),
  }));
  return {
    reference: "r",
    digest: "sha256:x",
    platform: "linux/amd64",
    scannedAt: "2026-11-21T00:00:00Z",
    scanners: scanners.map((state, i) => ({ scanner: (["trivy", "grype", "osv-scanner"] as const)[i] ?? "trivy", state, findings: 0 })),
    findings,
    counts: { unknown: 0, low: 0, medium: 0, high: 0, critical: 0 },
    ignores: { expired: [], unused: [] },
    difference: { new: [], fixed: [], remaining: 0 },
    patchRelease: { needed: false, fixable: [] },
  };
}

test("the gate: at or above the threshold fails, below passes, ignored findings do not count", () => {
  assert.equal(decideGate([image(["medium", "low"])], "high").outcome, "passed");
  assert.equal(decideGate([image(["medium", "high"])], "high").outcome, "failed");
  assert.equal(decideGate([image(["critical"])], "high").outcome, "failed");
  assert.equal(decideGate([image(["critical"], ["ok"], [true])], "high").outcome, "passed");
  assert.equal(decideGate([image(["unknown"])], "unknown").outcome, "failed");
  assert.equal(decideGate([image(["critical"])], "none").outcome, "passed");
});

test("the gate: a scanner that is missing, has no or a stale database, or failed makes it unavailable, even with no findings and over a failure", () => {
  for (const state of ["missing", "database-missing", "database-stale", "failed"] as const) {
    const clean = decideGate([image([], ["ok", state])], "high");
    assert.equal(clean.outcome, "unavailable", state);
    assert.equal(clean.passed, false);
    assert.match(clean.reasons.join("\n"), new RegExp(`grype ${state}`));
    assert.equal(decideGate([image(["critical"], [state])], "high").outcome, "unavailable");
  }
});
