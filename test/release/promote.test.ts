// `release promote` and `release bump` through the real CLI against a real registry:
// copy by digest with every platform, floating tags, idempotence, refused overwrites,
// refused failed candidates, --dry-run, an interrupted promotion that completes on rerun,
// and bumps read from real registry tags.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RegistryClient } from "../../src/registry/index.ts";
import type { RegistryRepository } from "../../src/registry/index.ts";
import { attachRecord, readRecords } from "../../src/release/index.ts";
import type { CandidateRecord, PromoteResult, PromotionRecord } from "../../src/release/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, startRegistryProxy } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";
import { writeImage, writeIndex } from "../oci/images.ts";

const PORTS: [number, number] = [15700, 15739];
const PROXY_PORTS: [number, number] = [15740, 15759];

interface PromoteAnswer {
  images: PromoteResult[];
  skipped: { image: string; reason: string }[];
}

/** A catalog of one product image `kafka` 1.0.0 (image version 0.1.0) with ADR018's legacy scheme, which has floating tags. */
function catalogFor(host: string, label: string): string {
  const root = mkdtempSync(join(tmpdir(), `imagewright-release-${label}-`));
  const files: Record<string, string> = {
    "imagewright.yaml": `registry: ${host}\nnamespace: rel\nvendor: stackable\ntagScheme: stackable-legacy\nplatforms: [linux/amd64, linux/arm64]\nevaluation:\n  namespace: eval\n`,
    "images/kafka/image.yaml": "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n  - productVersion: 2.0.0\n    imageVersion: 0.3.0\n",
    "images/kafka/Dockerfile": "FROM scratch\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function candidateRecord(digest: string, rcTag: string, passed: boolean): CandidateRecord {
  return {
    kind: "imagewright/release-record",
    version: 1,
    type: "candidate",
    createdAt: new Date().toISOString(),
    product: "kafka",
    productVersion: "1.0.0",
    imageVersion: "0.1.0",
    rc: 1,
    rcTag,
    image: { image: "kafka", reference: `eval/kafka:${rcTag}`, digest, mediaType: "application/vnd.oci.image.index.v1+json", size: 1, platforms: [] },
    tests: {
      suite: "kafka",
      status: passed ? "passed" : "failed",
      counts: { passed: passed ? 1 : 0, failed: passed ? 0 : 1, skipped: 0 },
      steps: [{ id: "ready", title: "broker becomes ready", status: passed ? "passed" : "failed", durationMs: 1 }],
      durationMs: 1,
    },
    scan: { gate: "passed", failOn: "high", scanners: ["trivy"], counts: {}, ignored: [], reasons: [] },
    inputs: { artifactUrl: "http://127.0.0.1/kafka.tgz", checksumUrl: "http://127.0.0.1/kafka.tgz.sha512", sha512: "0".repeat(128), catalogRevision: "test", catalogDirty: false },
  };
}

describe("release promote and bump on a real registry", () => {
  let registry: TestRegistry;
  const client = new RegistryClient();
  const roots: string[] = [];
  let counter = 0;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
  });
  after(async () => {
    await client.close();
    await registry?.stop();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /** Each test gets its own namespace pair through its own catalog, so tests never see each other's tags. */
  function setup(host = registry.host): { catalog: string; evaluation: RegistryRepository; release: RegistryRepository; prefix: string } {
    const prefix = `t${++counter}`;
    const catalog = catalogFor(host, prefix);
    roots.push(catalog);
    return {
      catalog,
      evaluation: client.repository(registry.host, "eval/kafka"),
      release: client.repository(registry.host, `${prefix}/kafka`),
      prefix,
    };
  }

  async function candidate(rcTag: string, passed: boolean): Promise<{ digest: string; platforms: string[] }> {
    const evaluation = client.repository(registry.host, "eval/kafka");
    const index = await writeIndex(evaluation, { platforms: ["linux/amd64", "linux/arm64/v8"], layerSizes: [200_000, 50_000], tag: rcTag });
    await attachRecord(evaluation, index.descriptor, candidateRecord(index.descriptor.digest, rcTag, passed));
    return { digest: index.descriptor.digest, platforms: index.images.map((i) => i.descriptor.digest) };
  }

  const promoteCli = (catalog: string, prefix: string, ...args: string[]) =>
    runCli(["--json", "release", "promote", "kafka", ...args, "--catalog", catalog, "--into", `${registry.host}/${prefix}`]);

  it("copies by digest with every platform, mounts blobs, moves the floating tag, and a second run writes nothing", async () => {
    const { catalog, release, prefix } = setup();
    const rc = await candidate("1.0.0-stackable0.1.0-rc1", true);
    const first = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc1", "--to", "1.0.0");
    assert.equal(first.code, 0, first.stderr);
    const answer = parseJson<PromoteAnswer>(first).images[0]!;
    assert.equal(answer.status, "promoted");
    assert.equal(answer.digest, rc.digest);
    assert.deepEqual(answer.tags.map((t) => [t.tag, t.action]), [["1.0.0-stackable0.1.0", "write"], ["1.0.0-stackable0", "write"]]);
    assert.ok(answer.blobs.mounted > 0 && answer.blobs.copied === 0, `blobs were mounted, not uploaded: ${JSON.stringify(answer.blobs)}`);
    assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, rc.digest);
    assert.equal((await release.resolve("1.0.0-stackable0")).digest, rc.digest);
    for (const platform of rc.platforms) assert.equal((await release.resolve(platform)).digest, platform);
    // The candidate's record came along, and the promotion is recorded beside it.
    const records = await readRecords(release, rc.digest);
    assert.deepEqual(records.map((r) => r.record.type).sort(), ["candidate", "promotion"]);

    const shown = await runCli(["--json", "release", "records", `${registry.host}/${prefix}/kafka:1.0.0-stackable0.1.0`]);
    assert.equal(shown.code, 0, shown.stderr);
    const shownRecords = parseJson<{ digest: string; records: { record: { type: string; from?: string } }[] }>(shown);
    assert.equal(shownRecords.digest, rc.digest);
    assert.equal(shownRecords.records.find((r) => r.record.type === "promotion")?.record.from, `${registry.host}/eval/kafka:1.0.0-stackable0.1.0-rc1@${rc.digest}`);

    const tagsBefore = (await release.listTags()).sort();
    const second = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc1");
    assert.equal(second.code, 0, second.stderr);
    const again = parseJson<PromoteAnswer>(second).images[0]!;
    assert.equal(again.status, "already-promoted");
    assert.equal(again.writes, 0);
    assert.deepEqual((await release.listTags()).sort(), tagsBefore);
    assert.equal((await readRecords(release, rc.digest)).length, 2);
  });

  it("promotes across registries: blobs streamed (no mount between hosts), every platform kept, same digests", async () => {
    const second = await startRegistry({ ports: PORTS });
    try {
      const { catalog } = setup();
      const rc = await candidate("1.0.0-stackable0.1.0-rc6", true);
      const result = await runCli(["--json", "release", "promote", "kafka", "1.0.0-stackable0.1.0-rc6", "--catalog", catalog, "--into", `${second.host}/rel`]);
      assert.equal(result.code, 0, result.stderr);
      const answer = parseJson<PromoteAnswer>(result).images[0]!;
      assert.equal(answer.blobs.mounted, 0);
      assert.ok(answer.blobs.copied > 0 && answer.blobs.bytesCopied > 250_000, JSON.stringify(answer.blobs));
      const release = client.repository(second.host, "rel/kafka");
      assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, rc.digest);
      for (const platform of rc.platforms) assert.equal((await release.resolve(platform)).digest, platform);
      assert.deepEqual((await readRecords(release, rc.digest)).map((r) => r.record.type).sort(), ["candidate", "promotion"]);
    } finally {
      await second.stop();
    }
  });

  it("--dry-run shows every tag it would write and writes none", async () => {
    const { catalog, release, prefix } = setup();
    await candidate("1.0.0-stackable0.1.0-rc2", true);
    const result = await runCli(["release", "promote", "kafka", "1.0.0-stackable0.1.0-rc2", "--dry-run", "--catalog", catalog, "--into", `${registry.host}/${prefix}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /1\.0\.0-stackable0\.1\.0\s+would write/);
    assert.match(result.stdout, /1\.0\.0-stackable0\s+would write/);
    await assert.rejects(release.listTags(), (error: Error & { kind?: string }) => error.kind === "not-found");
  });

  it("refuses to move a release tag to another digest (exit 5); --force needs a reason, which is recorded", async () => {
    const { catalog, release, prefix } = setup();
    const other = await writeImage(release, { platform: "linux/amd64", layerSizes: [1000], tag: "1.0.0-stackable0.1.0" });
    const rc = await candidate("1.0.0-stackable0.1.0-rc3", true);
    const refused = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc3");
    assert.equal(refused.code, 5, refused.stdout);
    assert.equal(parseJson<{ error: { kind: string; input: string } }>(refused).error.kind, "conflict");
    assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, other.descriptor.digest);

    const noReason = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc3", "--force");
    assert.equal(noReason.code, 2);

    const forced = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc3", "--force", "--reason", "rc1 was pushed by hand, vote passed on rc3");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, rc.digest);
    const promotion = (await readRecords(release, rc.digest)).map((r) => r.record).find((r): r is PromotionRecord => r.type === "promotion");
    assert.equal(promotion?.forced?.reason, "rc1 was pushed by hand, vote passed on rc3");
    assert.deepEqual(promotion?.forced?.replaced, [{ tag: "1.0.0-stackable0.1.0", digest: other.descriptor.digest }]);
  });

  it("refuses a candidate whose suite failed (exit 1) unless --override --reason, which is recorded", async () => {
    const { catalog, release, prefix } = setup();
    const rc = await candidate("1.0.0-stackable0.1.0-rc4", false);
    const refused = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc4");
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(parseJson<{ error: { message: string } }>(refused).error.message, /suite failed \(ready\)/);
    await assert.rejects(release.resolve("1.0.0-stackable0.1.0"), (error: Error & { kind?: string }) => error.kind === "not-found");

    const overridden = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc4", "--override", "--reason", "ready step flaked on the CI host; rerun by hand passed");
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, rc.digest);
    const promotion = (await readRecords(release, rc.digest)).map((r) => r.record).find((r): r is PromotionRecord => r.type === "promotion");
    assert.equal(promotion?.overridden?.reason, "ready step flaked on the CI host; rerun by hand passed");
    assert.match(promotion?.overridden?.problems[0] ?? "", /suite failed/);
    // Done once with the override, a rerun is a no-op rather than a refusal.
    const rerun = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc4");
    assert.equal(rerun.code, 0, rerun.stdout);
    assert.equal(parseJson<PromoteAnswer>(rerun).images[0]!.writes, 0);
  });

  it("an image pushed without `release rc` has no record and is refused", async () => {
    const { catalog, prefix } = setup();
    await writeImage(client.repository(registry.host, "eval/kafka"), { platform: "linux/amd64", layerSizes: [1000], tag: "1.0.0-stackable0.1.0-rc9" });
    const refused = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0-rc9");
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(parseJson<{ error: { message: string } }>(refused).error.message, /no release record/);
    const none = await runCli(["--json", "release", "records", `${registry.host}/eval/kafka:1.0.0-stackable0.1.0-rc9`]);
    assert.equal(none.code, 4, none.stdout);
  });

  it("bad input: a tag that is no candidate (exit 3), an unknown product (exit 4)", async () => {
    const { catalog, prefix } = setup();
    const notRc = await promoteCli(catalog, prefix, "1.0.0-stackable0.1.0");
    assert.equal(notRc.code, 3);
    assert.match(parseJson<{ error: { hint: string } }>(notRc).error.hint, /-rc<N>/);
    const unknown = await runCli(["--json", "release", "promote", "zookeeper", "1.0.0-stackable0.1.0-rc1", "--catalog", catalog]);
    assert.equal(unknown.code, 4);
  });

  it("an interrupted promotion (registry stopped mid-copy) shows no tag, and completes on rerun", async () => {
    const proxy = await startRegistryProxy({ port: registry.port }, PROXY_PORTS);
    try {
      const { catalog, release, prefix } = setup(proxy.host);
      const rc = await candidate("1.0.0-stackable0.1.0-rc5", true);
      let stopped = false;
      proxy.rules.push({
        // The first blob write into the release repository stops the registry under it.
        match: (request) => request.method === "POST" && request.path.startsWith(`/v2/${prefix}/kafka/blobs/uploads/`),
        times: 1,
        before: async () => {
          stopped = true;
          await registry.kill();
        },
      });
      const interrupted = await runCli(["--json", "release", "promote", "kafka", "1.0.0-stackable0.1.0-rc5", "--catalog", catalog, "--into", `${proxy.host}/${prefix}`, "--from", `${proxy.host}/eval`], {
        timeoutMs: 300_000,
      });
      assert.ok(stopped, "the fault fired");
      assert.notEqual(interrupted.code, 0, interrupted.stdout);
      await registry.start();
      // Nothing half-done is visible: no tag at all.
      await assert.rejects(release.listTags(), (error: Error & { kind?: string }) => error.kind === "not-found");

      const resumed = await runCli(["--json", "release", "promote", "kafka", "1.0.0-stackable0.1.0-rc5", "--catalog", catalog, "--into", `${proxy.host}/${prefix}`, "--from", `${proxy.host}/eval`]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal((await release.resolve("1.0.0-stackable0.1.0")).digest, rc.digest);
      for (const platform of rc.platforms) assert.equal((await release.resolve(platform)).digest, platform);
    } finally {
      await proxy.close();
    }
  });

  it("bump reads the registry's released tags, not the catalog, and prints the git tag", async () => {
    const { catalog, release, prefix } = setup();
    // Released: 0.1.0 and a CVE fix 0.1.1 the catalog does not know about; an RC and a floating tag are not releases.
    for (const tag of ["1.0.0-stackable0.1.0", "1.0.0-stackable0.1.1", "1.0.0-stackable0.2.0-rc1", "1.0.0-stackable0", "2.0.0-stackable0.3.0"]) {
      await writeImage(release, { platform: "linux/amd64", layerSizes: [100], tag, label: tag });
    }
    const patch = await runCli(["--json", "release", "bump", "kafka", "1.0.0", "--catalog", catalog, "--into", `${registry.host}/${prefix}`]);
    assert.equal(patch.code, 0, patch.stderr);
    const bumped = parseJson<{ images: { current: { tag: string }; next: { imageVersion: string; tag: string; gitTag: string }; catalogImageVersion: string }[] }>(patch).images[0]!;
    assert.equal(bumped.current.tag, "1.0.0-stackable0.1.1");
    assert.deepEqual(bumped.next, { imageVersion: "0.1.2", tag: "1.0.0-stackable0.1.2", gitTag: "kafka1.0.0-stackable0.1.2" });
    assert.equal(bumped.catalogImageVersion, "0.1.0");

    const minor = await runCli(["release", "bump", "kafka", "1.0.0", "--minor", "--catalog", catalog, "--into", `${registry.host}/${prefix}`]);
    assert.equal(minor.code, 0, minor.stderr);
    assert.match(minor.stdout, /git tag kafka1\.0\.0-stackable0\.2\.0 && git push origin kafka1\.0\.0-stackable0\.2\.0/);
    assert.match(minor.stdout, /the catalog says 0\.1\.0, the registry's newest release is 0\.1\.1/);

    const nothing = await runCli(["--json", "release", "bump", "kafka", "2.0.0", "--catalog", catalog, "--into", `${registry.host}/${prefix}-empty`]);
    assert.equal(nothing.code, 4, nothing.stdout);
    const twoParts = await runCli(["release", "bump", "kafka", "1.0.0", "--major", "--patch", "--catalog", catalog]);
    assert.equal(twoParts.code, 2);
  });
});
