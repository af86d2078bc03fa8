import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeFindings, purlKey } from "../../src/scan/index.ts";
import type { Finding } from "../../src/scan/index.ts";

function finding(partial: Partial<Finding> & Pick<Finding, "id" | "scanners">, purl: string): Finding {
  return {
    aliases: [],
    package: { name: "zlib1g", purl, type: "deb", installedVersion: "1:1.2.13.dfsg-1" },
    fixedVersions: [],
    severity: "unknown",
    severitySource: "x",
    ...partial,
  };
}

test("purl keys ignore qualifiers and percent-encoding, which scanners disagree on", () => {
  assert.equal(purlKey("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12.12"), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
  assert.equal(purlKey("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
  // trivy's form: the epoch as a qualifier, as the purl spec says
  assert.equal(purlKey("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.15&epoch=1"), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
  assert.equal(purlKey("pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64"), "pkg:deb/debian/libstdc++6@12.2.0-14+deb12u1");
});

test("the same advisory on the same package from three scanners is one finding that names them all", () => {
  const merged = mergeFindings([
    finding({ id: "CVE-2023-45853", severity: "critical", severitySource: "nvd", scanners: ["trivy"], title: "zlib: integer overflow" }, "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.15&epoch=1"),
    finding({ id: "DEBIAN-CVE-2023-45853", aliases: ["CVE-2023-45853"], severity: "critical", scanners: ["osv-scanner"] }, "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1"),
    finding({ id: "CVE-2023-45853", severity: "high", scanners: ["grype"], layer: { diffId: "sha256:aa" } }, "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"),
  ]);
  assert.equal(merged.length, 1);
  const [one] = merged;
  assert.equal(one?.id, "CVE-2023-45853");
  assert.deepEqual(one?.aliases, ["DEBIAN-CVE-2023-45853"]);
  assert.deepEqual(one?.scanners, ["grype", "osv-scanner", "trivy"]);
  assert.equal(one?.severity, "critical");
  assert.equal(one?.severitySource, "nvd");
  assert.deepEqual(one?.layer, { diffId: "sha256:aa" });
  assert.equal(one?.title, "zlib: integer overflow");
});

test("GHSA and CVE ids of one advisory meet through aliases; the CVE becomes the id", () => {
  const purl = "pkg:maven/commons-beanutils/commons-beanutils@1.9.4";
  const merged = mergeFindings([
    finding({ id: "GHSA-wxr5-93ph-8wr9", aliases: ["CVE-2025-48734"], severity: "high", fixedVersions: ["1.11.0"], scanners: ["osv-scanner"] }, purl),
    finding({ id: "CVE-2025-48734", severity: "high", fixedVersions: ["1.11.0"], scanners: ["trivy"] }, purl),
  ]);
  assert.deepEqual(
    merged.map((f) => [f.id, f.aliases, f.fixedVersions, f.scanners]),
    [["CVE-2025-48734", ["GHSA-wxr5-93ph-8wr9"], ["1.11.0"], ["osv-scanner", "trivy"]]],
  );
});

test("one advisory on two packages stays two findings; the most severe sorts first", () => {
  const merged = mergeFindings([
    finding({ id: "CVE-2022-27943", severity: "low", scanners: ["trivy"] }, "pkg:deb/debian/libgcc-s1@12.2.0-14"),
    finding({ id: "CVE-2022-27943", severity: "low", scanners: ["trivy"] }, "pkg:deb/debian/libstdc++6@12.2.0-14"),
    finding({ id: "CVE-2023-45853", severity: "critical", scanners: ["trivy"] }, "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"),
  ]);
  assert.deepEqual(
    merged.map((f) => [f.id, f.package.purl]),
    [
      ["CVE-2023-45853", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"],
      ["CVE-2022-27943", "pkg:deb/debian/libgcc-s1@12.2.0-14"],
      ["CVE-2022-27943", "pkg:deb/debian/libstdc++6@12.2.0-14"],
    ],
  );
});
