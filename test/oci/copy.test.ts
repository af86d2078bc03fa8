// Copies between real Distribution registries (Debian's docker-registry),
// OCI layouts and docker archives: digests kept, platforms selected,
// promotion by mount, skipped blobs, and a corrupt blob caught.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import { copy, DockerArchive, OciLayout, parseManifest } from "../../src/oci/index.ts";
import type { ImageStore } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy } from "../support/registry.ts";
import type { RegistryProxy, TestRegistry } from "../support/registry.ts";
import type { GeneratedIndex } from "./images.ts";
import { writeIndex } from "./images.ts";

const PORTS = [15100, 15199] as const;

describe("copy between registries, layouts and archives", () => {
  let dir: string;
  let a: TestRegistry;
  let b: TestRegistry;
  let proxyA: RegistryProxy;
  let proxyB: RegistryProxy;
  let client: RegistryClient;
  let generated: GeneratedIndex;
  let source: ImageStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-copy-"));
    [a, b] = await Promise.all([startRegistry({ ports: PORTS }), startRegistry({ ports: PORTS })]);
    proxyA = await startRegistryProxy(a, PORTS);
    proxyB = await startRegistryProxy(b, PORTS);
    client = new RegistryClient();
    const layout = await OciLayout.open(join(dir, "origin"), { create: true });
    generated = await writeIndex(layout, { tag: "3.7.0", attestations: true, layerSizes: [300_000, 20_000, 1000] });
    source = client.repository(a.host, "eval/kafka");
    await copy(layout, "3.7.0", source, "3.7.0-rc1");
  });
  after(async () => {
    await client?.close();
    await proxyA?.close();
    await proxyB?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps digests registry → layout → registry, and for one platform layout → archive → registry", async () => {
    assert.equal((await source.resolve("3.7.0-rc1")).digest, generated.descriptor.digest);
    const layout = await OciLayout.open(join(dir, "pulled"), { create: true });
    const pulled = await copy(source, "3.7.0-rc1", layout, "3.7.0");
    assert.equal(pulled.descriptor.digest, generated.descriptor.digest);
    assert.equal(pulled.digestChanged, false);
    const pushed = await copy(layout, "3.7.0", client.repository(b.host, "mirror/kafka"), "3.7.0");
    assert.equal(pushed.descriptor.digest, generated.descriptor.digest);
    for (const digest of [...generated.images.map((i) => i.descriptor.digest), ...generated.attestations.map((d) => d.digest)]) {
      assert.equal((await client.repository(b.host, "mirror/kafka").resolve(digest)).digest, digest);
    }

    const amd = generated.images.find((i) => i.platform.architecture === "amd64")!;
    const archivePath = join(dir, "kafka.tar");
    await copy(layout, "3.7.0", await DockerArchive.create(archivePath), "kafka:3.7.0", { platforms: [{ os: "linux", architecture: "amd64" }] });
    const fromArchive = await copy(await DockerArchive.read(archivePath), "kafka:3.7.0", client.repository(b.host, "single/kafka"), "3.7.0");
    assert.equal(fromArchive.descriptor.digest, amd.descriptor.digest);
    assert.equal((await client.repository(b.host, "single/kafka").resolve("3.7.0")).digest, amd.descriptor.digest);
  });

  it("copies across registries with the same index digest, through a proxy that counts every byte", async () => {
    const before = proxyB.uploadedBytes();
    const result = await copy(source, "3.7.0-rc1", client.repository(proxyB.host, "cross/kafka"), "3.7.0");
    assert.equal(result.descriptor.digest, generated.descriptor.digest);
    const blobBytes = result.blobs.reduce((sum, blob) => sum + blob.descriptor.size, 0);
    assert.equal(result.bytesCopied, blobBytes);
    assert.equal(result.manifests.length, 5); // 2 images, 2 attestations, the index
    const uploaded = proxyB.uploadedBytes() - before;
    const manifestBytes = result.manifests.reduce((sum, m) => sum + m.size, 0);
    assert.equal(uploaded, blobBytes + manifestBytes);
    // Copying again moves no blob bytes: everything is there.
    const again = await copy(source, "3.7.0-rc1", client.repository(b.host, "cross/kafka"), "3.7.0-again");
    assert.equal(again.bytesCopied, 0);
    assert.equal(again.bytesSkipped, blobBytes);
  });

  it("promotes within one registry by mounting: no layer bytes uploaded", async () => {
    const from = client.repository(proxyA.host, "eval/kafka");
    const to = client.repository(proxyA.host, "release/kafka");
    const start = proxyA.records.length;
    const result = await copy(from, "3.7.0-rc1", to, "3.7.0");
    assert.equal(result.descriptor.digest, generated.descriptor.digest);
    assert.equal(result.bytesCopied, 0);
    assert.ok(result.bytesMounted > 300_000);
    const requests = proxyA.records.slice(start);
    const blobUploads = requests.filter((r) => (r.method === "PATCH" || r.method === "PUT") && r.path.includes("/blobs/uploads/"));
    assert.deepEqual(blobUploads, []);
    const uploaded = requests.filter((r) => r.method !== "GET" && r.method !== "HEAD").reduce((sum, r) => sum + r.requestBytes, 0);
    assert.equal(uploaded, result.manifests.reduce((sum, m) => sum + m.size, 0));
    assert.ok(requests.some((r) => r.method === "POST" && r.path.includes("mount=")));
  });

  it("keeps only the chosen platform (and its attestation) in a new index, and says so", async () => {
    const target = client.repository(b.host, "arm/kafka");
    const result = await copy(source, "3.7.0-rc1", target, "3.7.0", { platforms: [{ os: "linux", architecture: "arm64" }] });
    assert.equal(result.digestChanged, true);
    assert.notEqual(result.descriptor.digest, generated.descriptor.digest);
    assert.match(result.notes.join("\n"), /dropped linux\/amd64 \(platform not selected\)/);
    assert.match(result.notes.join("\n"), /differs from the source's/);
    const stored = await target.getManifest("3.7.0");
    const parsed = parseManifest(stored.bytes, "arm");
    assert.equal(parsed.kind, "index");
    if (parsed.kind !== "index") return;
    const arm = generated.images.find((i) => i.platform.architecture === "arm64")!;
    const amd = generated.images.find((i) => i.platform.architecture === "amd64")!;
    assert.deepEqual(parsed.index.manifests.map((m) => m.annotations?.["vnd.docker.reference.digest"] ?? m.digest), [arm.descriptor.digest, arm.descriptor.digest]);
    assert.equal(await target.hasBlob(amd.layers[0]!), false);
    assert.equal(await target.hasBlob(arm.layers[0]!), true);
  });

  it("catches a blob whose bytes do not match its digest, and leaves no tag behind", async () => {
    const amd = generated.images.find((i) => i.platform.architecture === "amd64")!;
    const layer = amd.layers[0]!;
    proxyA.rules.push({ match: (r) => r.method === "GET" && r.path.endsWith(`/blobs/${layer.digest}`), corrupt: true });
    try {
      const target = client.repository(b.host, "corrupt/kafka");
      await assert.rejects(copy(client.repository(proxyA.host, "eval/kafka"), "3.7.0-rc1", target, "3.7.0"), (e: unknown) => {
        assert.ok(e instanceof ImagewrightError, String(e));
        assert.match(e.message, /does not match its digest/);
        return true;
      });
      await assert.rejects(target.resolve("3.7.0"), (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found");
      assert.equal(await target.hasBlob(layer), false);
    } finally {
      proxyA.rules.length = 0;
    }
  });

  it("refuses a destination digest that is not what the copy produces", async () => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const target = client.repository(proxyB.host, "digest/kafka");
    const start = proxyB.records.length;
    await assert.rejects(copy(source, "3.7.0-rc1", target, wrong), (e: unknown) => e instanceof ImagewrightError && e.kind === "conflict");
    // Refused before anything was written.
    assert.deepEqual(proxyB.records.slice(start).filter((r) => r.method !== "GET" && r.method !== "HEAD"), []);
    const right = await copy(source, "3.7.0-rc1", client.repository(b.host, "digest/kafka"), generated.descriptor.digest);
    assert.equal(right.descriptor.digest, generated.descriptor.digest);
  });
});
