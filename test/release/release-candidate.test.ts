// The release process end to end on the real stack: the fixture Kafka tarball served on
// loopback as the RC URL → `release rc` (BuildKit build, suite, trivy, record, report) →
// `release promote` by digest; a tampered checksum stops everything before a build; an
// image with a broken launch script fails its suite for real and cannot be promoted
// without an override. The full Kafka suite runs once (the good candidate).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RegistryClient } from "../../src/registry/index.ts";
import { readRecords } from "../../src/release/index.ts";
import type { CandidateRecord, EvaluationReport, PromoteResult, PromotionRecord } from "../../src/release/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { kafkaFixture, serveFixture } from "../support/kafka-fixture.ts";
import type { KafkaFixture, ServedFixture } from "../support/kafka-fixture.ts";
import { startRegistry } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const REGISTRY_PORTS: [number, number] = [15760, 15779];
const FIXTURE_PORTS = { first: 15780, last: 15789 };
const ACCEPTED = join(ROOT, "scripts/release-accepted-findings.yaml");
const LONG = 40 * 60_000;

async function serve(directory: string): Promise<ServedFixture> {
  let last: unknown;
  for (let port = FIXTURE_PORTS.first; port <= FIXTURE_PORTS.last; port++) {
    try {
      return await serveFixture(directory, port);
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`no free port in ${FIXTURE_PORTS.first}-${FIXTURE_PORTS.last}`, { cause: last });
}

async function sha512Of(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The example catalog, copied, pointed at the test registry, optionally changed. */
function exampleCatalog(registry: string, directories: string[], change?: (root: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), "imagewright-release-catalog-"));
  directories.push(root);
  cpSync(join(ROOT, "examples/catalog"), root, { recursive: true });
  const file = join(root, "imagewright.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(/^registry: .*$/m, `registry: ${registry}`));
  change?.(root);
  return root;
}

describe("release rc → report → promote on the real stack", { timeout: 2 * LONG }, () => {
  let registry: TestRegistry;
  let fixture: KafkaFixture;
  let served: ServedFixture;
  let scannerDb: string;
  const client = new RegistryClient();
  const directories: string[] = [];

  before(async () => {
    registry = await startRegistry({ ports: REGISTRY_PORTS });
    fixture = await kafkaFixture("4.1.0");
    served = await serve(fixture.directory);
    const { stdout } = await promisify(execFile)("bash", [join(ROOT, "stack/scanners-db.sh")], { maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000 });
    scannerDb = stdout.trim().split("\n").at(-1) ?? "";
  });
  after(async () => {
    await served?.close();
    await client.close();
    await registry?.stop();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  const rc = (catalog: string, reportDir: string, ...args: string[]) =>
    runCli(["--json", "release", "rc", "kafka", "4.1.0", "--catalog", catalog, "--image", "kafka", "--report-dir", reportDir, "--ignore-file", ACCEPTED, ...args], {
      timeoutMs: LONG,
      env: { IMAGEWRIGHT_SCANNER_DB: scannerDb },
    });

  it("a checksum that does not match stops the candidate before anything is built or pushed (exit 3)", async () => {
    const catalog = exampleCatalog(registry.host, directories);
    const tampered = mkdtempSync(join(tmpdir(), "imagewright-release-tampered-"));
    directories.push(tampered);
    symlinkSync(fixture.tarball, join(tampered, basename(fixture.tarball)));
    writeFileSync(join(tampered, `${basename(fixture.tarball)}.sha512`), `${"ab".repeat(64)}  ${basename(fixture.tarball)}\n`);
    const tamperedServer = await serve(tampered);
    try {
      const result = await rc(catalog, join(tampered, "report"), "--artifact-url", tamperedServer.urlOf(basename(fixture.tarball)));
      assert.equal(result.code, 3, result.stderr);
      const error = parseJson<{ error: { message: string; input: string; place: string } }>(result).error;
      assert.match(error.message, /SHA-512 of .* is [0-9a-f]{128}, but .* publishes (ab){64}/);
      assert.match(error.place, /^byte \d+/);
    } finally {
      await tamperedServer.close();
    }
    await assert.rejects(client.repository(registry.host, "evaluation/kafka").listTags(), (error: Error & { kind?: string }) => error.kind === "not-found");

    const badUrl = await rc(catalog, join(tampered, "report"), "--artifact-url", "ftp//nowhere");
    assert.equal(badUrl.code, 3);
    assert.equal(parseJson<{ error: { input: string } }>(badUrl).error.input, "--artifact-url ftp//nowhere");
  });

  it("cuts RC1 (report + record), promotes it by digest, and a second promotion writes nothing", { timeout: LONG }, async () => {
    const catalog = exampleCatalog(registry.host, directories);
    const reportDir = join(catalog, "report");
    const result = await rc(catalog, reportDir, "--artifact-url", served.urlOf(basename(fixture.tarball)));
    assert.equal(result.code, 0, result.stderr.slice(-4000));
    const report = parseJson<EvaluationReport & { files: string[] }>(result);
    assert.equal(report.verdict, "ready-for-vote");
    assert.equal(report.rc, 1);
    const image = report.images[0]!;
    assert.equal(image.rcTag, "4.1.0_stackable0.1.0-rc1");
    assert.equal(image.tests.status, "passed");
    assert.ok(image.tests.steps.length >= 6, "the whole suite ran");
    assert.equal(image.scan.gate, "passed");
    assert.deepEqual(image.scan.ignored.map((f) => f.id).sort(), ["CVE-2023-45853", "CVE-2025-48734"]);
    assert.deepEqual(image.facts.platforms.map((p) => p.platform), ["linux/amd64"]);
    assert.equal(report.inputs.sha512, await sha512Of(fixture.tarball));

    // The registry holds what the report says, and the record read back says the same.
    const evaluation = client.repository(registry.host, "evaluation/kafka");
    assert.equal((await evaluation.resolve(image.rcTag)).digest, image.facts.digest);
    const records = await readRecords(evaluation, image.facts.digest);
    const record = records.map((r) => r.record).find((r): r is CandidateRecord => r.type === "candidate")!;
    assert.equal(record.inputs.sha512, report.inputs.sha512);
    assert.equal(record.inputs.artifactUrl, served.urlOf(basename(fixture.tarball)));
    assert.equal(record.tests.status, "passed");
    assert.equal(record.image.digest, image.facts.digest);

    for (const name of ["evaluation-report.md", "evaluation-report.html", "evaluation-report.json", "kafka-tests.xml", "kafka-tests.html"]) {
      assert.ok(existsSync(join(reportDir, name)), `${name} written`);
    }
    const markdown = readFileSync(join(reportDir, "evaluation-report.md"), "utf8");
    assert.match(markdown, new RegExp(image.facts.digest));
    assert.match(markdown, /accepted critical CVE-2023-45853 in zlib1g/);
    assert.match(markdown, new RegExp(report.inputs.sha512));

    const promoted = await runCli(["--json", "release", "promote", "kafka", image.rcTag, "--to", "4.1.0", "--catalog", catalog, "--image", "kafka"]);
    assert.equal(promoted.code, 0, promoted.stderr);
    const promotion = parseJson<{ images: PromoteResult[] }>(promoted).images[0]!;
    assert.equal(promotion.status, "promoted");
    assert.ok(promotion.blobs.mounted > 0 && promotion.blobs.copied === 0, `mounted, not uploaded: ${JSON.stringify(promotion.blobs)}`);
    const release = client.repository(registry.host, "stackable/kafka");
    assert.equal((await release.resolve("4.1.0_stackable0.1.0")).digest, image.facts.digest);
    for (const platform of image.facts.platforms) assert.equal((await release.resolve(platform.digest)).digest, platform.digest);
    const releaseRecords = (await readRecords(release, image.facts.digest)).map((r) => r.record.type).sort();
    assert.deepEqual(releaseRecords, ["candidate", "promotion"]);

    const again = await runCli(["--json", "release", "promote", "kafka", image.rcTag, "--catalog", catalog, "--image", "kafka"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseJson<{ images: PromoteResult[] }>(again).images[0]!.writes, 0);
  });

  it("an image whose launch script is broken fails its suite for real; its candidate is refused unless overridden", { timeout: LONG }, async () => {
    const catalog = exampleCatalog(registry.host, directories, (root) => {
      writeFileSync(join(root, "images/kafka/resources/docker/launch"), "#!/usr/bin/env bash\nexec /opt/kafka/bin/kafka-server-start.sh /etc/kafka/no-such.properties\n");
    });
    const reportDir = join(catalog, "report");
    const result = await rc(catalog, reportDir, "--artifact-url", served.urlOf(basename(fixture.tarball)), "--steps", "kafka=ready,topic");
    assert.equal(result.code, 1, result.stderr.slice(-4000));
    const report = parseJson<EvaluationReport>(result);
    assert.equal(report.verdict, "not-releasable");
    const image = report.images[0]!;
    assert.equal(image.tests.status, "failed");
    assert.equal(image.tests.steps.find((s) => s.id === "ready")?.status, "failed");
    assert.match(readFileSync(join(reportDir, "evaluation-report.md"), "utf8"), /NOT releasable/);
    // Pushed for inspection all the same, with a record that says it failed.
    const evaluation = client.repository(registry.host, "evaluation/kafka");
    assert.equal((await evaluation.resolve(image.rcTag)).digest, image.facts.digest);

    const refused = await runCli(["--json", "release", "promote", "kafka", image.rcTag, "--catalog", catalog, "--image", "kafka", "--into", `${registry.host}/overridden`]);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(parseJson<{ error: { message: string } }>(refused).error.message, /suite failed \(ready/);
    await assert.rejects(client.repository(registry.host, "overridden/kafka").listTags(), (error: Error & { kind?: string }) => error.kind === "not-found");

    const overridden = await runCli(["--json", "release", "promote", "kafka", image.rcTag, "--catalog", catalog, "--image", "kafka", "--into", `${registry.host}/overridden`, "--override", "--reason", "test of the override path"]);
    assert.equal(overridden.code, 0, overridden.stderr);
    const released = client.repository(registry.host, "overridden/kafka");
    const tag = image.rcTag.replace(/-rc\d+$/, "");
    assert.equal((await released.resolve(tag)).digest, image.facts.digest);
    const promotion = (await readRecords(released, image.facts.digest)).map((r) => r.record).find((r): r is PromotionRecord => r.type === "promotion");
    assert.equal(promotion?.overridden?.reason, "test of the override path");
  });
});
