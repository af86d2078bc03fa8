// End to end with the real trivy (and osv-scanner, and grype's missing database) over real images (Debian bookworm base, Kafka 3.9.1
// and 4.1.0 built from Maven Central jars) against the local advisory database made
// from real Debian, NVD and GitHub advisories (fixtures/advisories).

import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { copy, openLocation } from "../../src/oci/index.ts";
import { findProgram, runProgram } from "../../src/scan/tools.ts";
import type { ImageScan, ScanReport } from "../../src/scan/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { listenInRange } from "../support/registry.ts";
import { SCAN_PORTS, scanWorld } from "./images.ts";
import type { ScanWorld } from "./images.ts";

/** A proxy that refuses and counts every connection: a scan that reaches it tried to go online. */
async function connectionTrap(t: TestContext): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const trap = createServer();
  trap.on("connection", (socket) => {
    connections++;
    socket.destroy();
  });
  const port = await listenInRange(trap, SCAN_PORTS);
  t.after(() => new Promise<void>((resolve) => trap.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

let world: ScanWorld;
let state: string;

before(async () => {
  world = await scanWorld();
  state = await mkdtemp(join(tmpdir(), "imagewright-scan-state-"));
});

after(async () => {
  await rm(state, { recursive: true, force: true });
  await world.close();
});

function scan(args: readonly string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> {
  return runCli(["scan", ...args], { env: { IMAGEWRIGHT_STATE: state, IMAGEWRIGHT_SCANNER_DB: world.databases, ...env }, timeoutMs: 600_000 });
}

function ids(image: ImageScan | undefined): string[] {
  return [...new Set((image?.findings ?? []).map((f) => `${f.id} ${f.package.name}`))].sort();
}

test("trivy finds the seeded Debian advisories in the base image, and none whose fix is installed or that belong to another release", async () => {
  const result = await scan([world.base, "--json", "--no-keep", "--fail-on", "none"]);
  assert.equal(result.code, 0, result.stderr);
  const report = parseJson<ScanReport>(result);
  const [image] = report.images;
  assert.deepEqual(image?.scanners.map((s) => [s.scanner, s.state]), [["trivy", "ok"]]);
  assert.match(image?.scanners[0]?.version ?? "", /^0\.67\.2/);
  const found = ids(image);
  // Unfixed in bookworm, reported per binary package built from the named source package.
  for (const expected of [
    "CVE-2023-45853 zlib1g", // src:zlib, <ignored> in bookworm: affected, no fix
    "CVE-2011-3374 apt",
    "CVE-2011-3374 libapt-pkg6.0", // binary of src:apt
    "CVE-2022-27943 libgcc-s1", // binary of src:gcc-12 (advisories name the source)
    "CVE-2022-27943 libstdc++6",
    "CVE-2016-2781 coreutils",
    "CVE-2005-2541 tar",
  ]) {
    assert.ok(found.includes(expected), `${expected} missing from ${found.join(", ")}`);
  }
  // Negative cases: fixed by DSA-5514-1 (glibc 2.36-9+deb12u3) and DSA-5580-1 (perl 5.36.0-7+deb12u1),
  // both older than the installed versions; xz's advisory names a trixie/sid fix only.
  for (const absent of ["CVE-2023-4911", "CVE-2023-47038", "CVE-2024-3094"]) {
    assert.ok(!found.some((f) => f.startsWith(`${absent} `)), `${absent} reported: ${found.join(", ")}`);
  }
  const zlib = image?.findings.find((f) => f.id === "CVE-2023-45853");
  assert.equal(zlib?.severity, "critical"); // from NVD's 9.8: Debian gave no urgency
  assert.equal(zlib?.severitySource, "nvd");
  assert.deepEqual(zlib?.fixedVersions, []);
  assert.equal(zlib?.package.sourceName, "zlib");
  assert.match(zlib?.package.purl ?? "", /^pkg:deb\/debian\/zlib1g@/);
  assert.match(zlib?.layer?.diffId ?? "", /^sha256:[0-9a-f]{64}$/);
  assert.match(zlib?.layer?.digest ?? "", /^sha256:[0-9a-f]{64}$/);
  assert.equal(image?.findings.find((f) => f.id === "CVE-2011-3374")?.severity, "low"); // Debian: unimportant
  assert.equal(report.gate.outcome, "passed");
});

test("the gate fails at or above --fail-on, passes below it, and the exit code says which", async () => {
  const critical = await scan([world.base, "--no-keep", "--no-sbom", "--fail-on", "critical"]);
  assert.equal(critical.code, 1, critical.stderr);
  assert.match(critical.stdout, /gate \(fail on critical\): FAILED/);
  assert.match(critical.stdout, /CRITICAL\s+CVE-2023-45853\s+zlib1g \(zlib\)/);
  const none = await scan([world.base, "--no-keep", "--no-sbom", "--fail-on", "none"]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /gate \(fail on none\): PASSED/);
  const bad = await scan([world.base, "--fail-on", "severe"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--fail-on "severe" is not a severity/);
});

test("a missing or stale database, or a missing scanner, fails the gate loudly (exit 6), never a clean result", async (t) => {
  const empty = await mkdtemp(join(tmpdir(), "imagewright-nodb-"));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const missing = await scan([world.base, "--json", "--no-keep", "--fail-on", "none", "--db", `trivy=${empty}`]);
  assert.equal(missing.code, 6, missing.stderr);
  const report = parseJson<ScanReport>(missing);
  assert.equal(report.gate.outcome, "unavailable");
  assert.equal(report.gate.passed, false);
  assert.equal(report.images[0]?.scanners[0]?.state, "database-missing");
  assert.match(report.gate.reasons.join("\n"), /trivy database-missing \(no .*trivy\.db\)/);

  // The same database, built ten days ago.
  const stale = join(empty, "stale");
  await cp(join(world.databases, "trivy"), stale, { recursive: true });
  const metadata = JSON.parse(await readFile(join(stale, "db/metadata.json"), "utf8")) as Record<string, string>;
  metadata["UpdatedAt"] = new Date(Date.now() - 10 * 86_400_000).toISOString();
  await writeFile(join(stale, "db/metadata.json"), JSON.stringify(metadata));
  const old = await scan([world.base, "--no-keep", "--fail-on", "none", "--db", `trivy=${stale}`]);
  assert.equal(old.code, 6);
  assert.match(old.stdout, /trivy database-stale/);
  assert.match(old.stdout, /found: {4}UNKNOWN: no scanner could run/);
  assert.match(old.stdout, /UNAVAILABLE/);

  // The real grype (stack/tools.sh scanners builds it) with no grype database: trivy's
  // findings are there, and still the gate is unavailable, not passed.
  const grype = await scan([world.base, "--json", "--no-keep", "--no-sbom", "--fail-on", "none", "--scanners", "trivy,grype"]);
  assert.equal(grype.code, 6, grype.stderr);
  const both = parseJson<ScanReport>(grype);
  assert.deepEqual(both.images[0]?.scanners.map((s) => [s.scanner, s.state, s.version]), [["trivy", "ok", "0.67.2"], ["grype", "database-missing", "0.110.0"]]);
  assert.match(both.images[0]?.scanners[1]?.detail ?? "", /grype db status: database does not exist/);
  assert.ok((both.images[0]?.findings.length ?? 0) > 0);
  assert.equal(both.gate.outcome, "unavailable");

  // No scanner programs anywhere.
  const noTools = await scan([world.base, "--no-keep", "--fail-on", "none", "--scanners", "trivy,grype,osv-scanner"], { IMAGEWRIGHT_TOOLS: empty, PATH: "/usr/bin:/bin" });
  assert.equal(noTools.code, 6);
  for (const name of ["trivy", "grype", "osv-scanner"]) assert.match(noTools.stdout, new RegExp(`${name} missing`));
});

test("nothing is downloaded: a scan and its SBOM (syft) through a proxy that records every connection make none", async (t) => {
  const trap = await connectionTrap(t);
  const proxy = trap.url;
  const sboms = await mkdtemp(join(tmpdir(), "imagewright-sbom-"));
  t.after(() => rm(sboms, { recursive: true, force: true }));
  const result = await scan([world.kafka["3.9.1"], "--no-keep", "--fail-on", "none", "--sbom-dir", sboms], {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    ALL_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: "",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /trivy ok/);
  assert.match(result.stdout, /sbom: {5}.*\.cdx\.json \(syft, \d+ components\)/);
  assert.equal(trap.connections(), 0);

  // The control: the same trivy, asked to fetch its database, does go through the trap.
  const empty = await mkdtemp(join(tmpdir(), "imagewright-trivy-cache-"));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const trivy = await findProgram("trivy");
  assert.ok(trivy !== undefined, "trivy is built by stack/tools.sh scanners");
  const fetch = await runProgram(trivy, ["image", "--download-db-only", "--cache-dir", empty, "--quiet"], {
    env: { ...process.env, HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: "" },
    timeoutMs: 120_000,
  });
  assert.notEqual(fetch.code, 0);
  assert.ok(trap.connections() > 0, "trivy's download went to the proxy");
});

test("an ignore entry hides a finding until its date; an expired one stops ignoring and is reported", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "imagewright-ignore-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "ignore.yaml");
  const today = new Date().toISOString().slice(0, 10);
  await writeFile(file, `ignore:\n  - id: CVE-2023-45853\n    package: zlib\n    reason: minizip is not built into zlib1g\n    expires: ${today}\n`);
  const valid = await scan([world.base, "--json", "--no-keep", "--no-sbom", "--fail-on", "critical", "--ignore-file", file]);
  assert.equal(valid.code, 0, valid.stderr);
  const report = parseJson<ScanReport>(valid);
  assert.equal(report.images[0]?.findings.find((f) => f.id === "CVE-2023-45853")?.ignored?.expires, today);
  assert.equal(report.images[0]?.counts.critical, 0);

  await writeFile(file, `ignore:\n  - id: CVE-2023-45853\n    package: zlib\n    reason: minizip is not built into zlib1g\n    expires: 2026-01-31\n`);
  const expired = await scan([world.base, "--no-keep", "--no-sbom", "--fail-on", "critical", "--ignore-file", file]);
  assert.equal(expired.code, 1);
  assert.match(expired.stdout, /expired ignore entry: CVE-2023-45853 \(expired 2026-01-31, .*ignore\.yaml:2:5\) no longer ignores/);

  await writeFile(file, "ignore:\n  - id: CVE-2023-45853\n    expires: 2027-01-01\n");
  const broken = await scan([world.base, "--ignore-file", file]);
  assert.equal(broken.code, 3);
  assert.match(broken.stderr, /needs `reason`/);
  assert.match(broken.stderr, /at: {4}.*ignore\.yaml:2:5/);
});

test("scan --supported scans every supported released image of the catalog, finds the Maven advisories and says which need a patch release", async () => {
  const result = await scan(["--supported", "--catalog", world.catalog, "--json", "--no-keep", "--fail-on", "high"]);
  assert.equal(result.code, 1, result.stderr);
  const report = parseJson<ScanReport>(result);
  assert.deepEqual(report.images.map((i) => [i.catalog?.productVersion, i.catalog?.tag]), [
    ["3.9.1", "3.9.1_stackable0.1.0"],
    ["4.1.0", "4.1.0_stackable0.1.0"],
  ]);
  assert.deepEqual(report.unreleased, ["kafka 3.8.1"]);
  const [v391, v410] = report.images;
  const beanutils = v391?.findings.find((f) => f.id === "CVE-2025-48734");
  assert.equal(beanutils?.package.name, "commons-beanutils:commons-beanutils");
  assert.equal(beanutils?.package.installedVersion, "1.9.4");
  assert.deepEqual(beanutils?.fixedVersions, ["1.11.0"]);
  assert.equal(beanutils?.severity, "high");
  assert.match(beanutils?.package.path ?? "", /opt\/kafka\/libs\/commons-beanutils-1\.9\.4\.jar$/);
  assert.ok(ids(v391).includes("CVE-2024-47535 io.netty:netty-common"), "netty-common 4.1.105.Final < 4.1.115.Final");
  assert.ok(ids(v391).includes("CVE-2025-48924 org.apache.commons:commons-lang3"));
  // Kafka 4 ships no netty; both ship commons-beanutils 1.9.4.
  assert.ok(!ids(v410).some((f) => f.includes("netty")));
  assert.ok(ids(v410).includes("CVE-2025-48734 commons-beanutils:commons-beanutils"));
  // Fixed versions installed: commons-io 2.14.0 (fix 2.14.0), kafka-clients 3.9.1/4.1.0 (fix 3.4.0).
  for (const image of report.images) {
    assert.ok(!ids(image).some((f) => f.startsWith("CVE-2024-47554 ") || f.startsWith("CVE-2023-25194 ")), ids(image).join(", "));
    assert.equal(image.patchRelease.needed, true);
    assert.equal(image.patchRelease.nextImageVersion, "0.1.1");
    assert.ok(image.patchRelease.fixable.some((f) => f.id === "CVE-2025-48734" && f.fixedVersions.includes("1.11.0")));
  }
  assert.match(report.gate.reasons.join("\n"), /3\.9\.1_stackable0\.1\.0: \d+ finding\(s\) at or above high/);
});

test("every output format from one run: table, JSON, SARIF, markdown, JUnit, and a CycloneDX SBOM", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "imagewright-formats-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = (name: string): string => join(dir, name);
  const result = await scan([
    world.kafka["4.1.0"], "--no-keep", "--fail-on", "high", "--sbom-dir", dir,
    "--output", `sarif=${out("scan.sarif")}`, "--output", `markdown=${out("scan.md")}`, "--output", `junit=${out("scan.xml")}`, "--output", `json=${out("scan.json")}`,
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^\S+kafka:4\.1\.0_stackable0\.1\.0\n {2}digest: {3}sha256:/);
  assert.match(result.stdout, /HIGH\s+CVE-2025-48734\s+commons-beanutils:commons-beanutils\s+1\.9\.4\s+1\.11\.0\s+trivy/);

  const report = JSON.parse(await readFile(out("scan.json"), "utf8")) as ScanReport;
  const findings = report.images[0]?.findings ?? [];
  const blocking = findings.filter((f) => f.severity === "high" || f.severity === "critical");

  const sarif = JSON.parse(await readFile(out("scan.sarif"), "utf8")) as { version: string; runs: { tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } }; results: { ruleId: string; level: string }[] }[] };
  assert.equal(sarif.version, "2.1.0");
  const run = sarif.runs[0];
  assert.equal(run?.results.length, findings.length);
  assert.equal(run?.tool.driver.rules.find((r) => r.id === "CVE-2025-48734")?.properties["security-severity"], "8.0");
  assert.equal(run?.results.find((r) => r.ruleId === "CVE-2025-48734")?.level, "error");

  const markdown = await readFile(out("scan.md"), "utf8");
  assert.match(markdown, /^# Vulnerability scan — FAILED/);
  assert.match(markdown, /\| high \| CVE-2025-48734 \| commons-beanutils:commons-beanutils \| 1\.9\.4 \| 1\.11\.0 \| trivy \|/);

  const junit = await readFile(out("scan.xml"), "utf8");
  assert.match(junit, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="imagewright scan" tests="(\d+)" failures="(\d+)" errors="0">/);
  assert.equal(Number(/failures="(\d+)"/.exec(junit)?.[1]), blocking.length);
  assert.equal((junit.match(/<testcase /g) ?? []).length, findings.length + 1);

  const sbomPath = report.images[0]?.sbom?.path ?? "";
  const sbom = JSON.parse(await readFile(sbomPath, "utf8")) as { bomFormat: string; components: { name: string; purl?: string }[] };
  assert.equal(sbom.bomFormat, "CycloneDX");
  assert.ok(sbom.components.some((c) => c.purl?.startsWith("pkg:maven/commons-beanutils/commons-beanutils@1.9.4") === true), "the SBOM lists the jars");
  assert.ok(sbom.components.some((c) => c.purl?.startsWith("pkg:deb/debian/zlib1g@") === true), "and the Debian packages");
});

test("kept scans show what is new, fixed and remaining when the image behind a tag changes", async () => {
  const moving = `${world.registry.host}/test/moving:nightly`;
  const retag = async (source: string): Promise<void> => {
    const from = await openLocation(source, { client: world.client });
    const to = await openLocation(moving, { client: world.client, forWriting: true });
    await copy(from.store, from.reference, to.store, to.reference);
  };
  const scanMoving = async (): Promise<ImageScan> => {
    const result = await scan([moving, "--json", "--fail-on", "none", "--no-sbom"]);
    assert.equal(result.code, 0, result.stderr);
    return parseJson<ScanReport>(result).images[0]!;
  };
  await retag(world.kafka["3.9.1"]);
  const first = await scanMoving();
  assert.equal(first.difference.previousScannedAt, undefined);

  await retag(world.base); // the jars are gone, the Debian packages stay
  const second = await scanMoving();
  assert.equal(second.difference.previousScannedAt, first.scannedAt);
  assert.equal(second.difference.previousDigest, first.digest);
  assert.deepEqual(second.difference.new, []);
  assert.ok(second.difference.fixed.some((f) => f.id === "CVE-2025-48734" && f.package === "commons-beanutils:commons-beanutils"));
  assert.ok(second.difference.fixed.some((f) => f.id === "CVE-2024-47535"));
  assert.ok(!second.difference.fixed.some((f) => f.id === "CVE-2023-45853"));
  assert.equal(second.difference.remaining, second.findings.length);

  await retag(world.kafka["3.9.1"]);
  const third = await scanMoving();
  assert.ok(third.difference.new.some((f) => f.id === "CVE-2025-48734"));
  assert.deepEqual(third.difference.fixed, []);
  const human = await scan([moving, "--fail-on", "none", "--no-sbom"]);
  assert.match(human.stdout, /since last scan \(.+\): 0 new, 0 fixed, \d+ remaining/);
});

test("trivy and osv-scanner together: each finding once, found by both, and osv-scanner offline too", async (t) => {
  const trap = await connectionTrap(t);
  const proxy = trap.url;
  const result = await scan([world.kafka["3.9.1"], "--json", "--no-keep", "--no-sbom", "--fail-on", "critical", "--scanners", "trivy,osv-scanner"], {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: "",
  });
  assert.equal(result.code, 1, result.stderr);
  const report = parseJson<ScanReport>(result);
  const [image] = report.images;
  assert.deepEqual(image?.scanners.map((s) => [s.scanner, s.state]), [["trivy", "ok"], ["osv-scanner", "ok"]]);
  assert.match(image?.scanners[1]?.version ?? "", /^2\./);
  assert.equal(image?.scanners[0]?.findings, image?.scanners[1]?.findings);
  assert.equal(image?.findings.length, image?.scanners[0]?.findings);
  for (const f of image?.findings ?? []) assert.deepEqual(f.scanners, ["osv-scanner", "trivy"], `${f.id} ${f.package.name}`);
  const beanutils = image?.findings.find((f) => f.id === "CVE-2025-48734");
  assert.deepEqual(beanutils?.aliases, ["GHSA-wxr5-93ph-8wr9"]);
  const zlib = image?.findings.find((f) => f.id === "CVE-2023-45853");
  assert.deepEqual(zlib?.aliases, ["DEBIAN-CVE-2023-45853"]);
  assert.equal(zlib?.package.sourceName, "zlib");
  assert.equal(report.gate.outcome, "failed");
  assert.equal(trap.connections(), 0);
});
