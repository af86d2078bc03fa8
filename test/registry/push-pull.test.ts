import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MediaTypes } from "../../src/oci/model.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from "../support/registry.ts";
import { blob, pieces, pushImage, randomBlob, readAll, testImage } from "./fixtures.ts";

const PORTS = [15000, 15099] as const;

describe("registry client against a real registry", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    proxy = await startRegistryProxy(registry, PORTS);
    client = new RegistryClient({ monolithicLimit: 512 * 1024, resumeWindow: 1024 * 1024, env: {} });
  });
  after(async () => {
    await client?.close();
    await proxy?.close();
    await registry?.stop();
  });

  it("pushes an image and reads it back by tag and by digest", async () => {
    const repo = client.repository(registry.host, "org/kafka");
    const image = testImage([1000, 2000]);
    const pushed = await pushImage(repo, image, "3.7.0");
    assert.deepEqual(pushed, { mediaType: MediaTypes.ociManifest, digest: image.digest, size: image.manifest.length });

    assert.deepEqual(await repo.resolve("3.7.0"), pushed);
    assert.deepEqual(await repo.resolve(image.digest), pushed);
    const byTag = await repo.getManifest("3.7.0");
    assert.deepEqual(byTag.descriptor, pushed);
    assert.deepEqual(Buffer.from(byTag.bytes), image.manifest);
    const byDigest = await repo.getManifest(image.digest);
    assert.deepEqual(Buffer.from(byDigest.bytes), image.manifest);

    for (const layer of image.layers) {
      assert.equal(await repo.hasBlob(layer.descriptor), true);
      assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    }
    assert.equal(await repo.hasBlob(randomBlob(10).descriptor), false);
  });

  it("closes a download the reader abandons, and the client goes on working", async () => {
    const repo = client.repository(registry.host, "org/abandoned");
    const layer = randomBlob(8 * 1024 * 1024);
    await repo.putBlob(layer.descriptor, pieces(layer.bytes));
    for (let i = 0; i < 20; i++) {
      const stream = await repo.getBlob(layer.descriptor);
      const first = await new Promise<Buffer>((resolve) => stream.once("data", resolve));
      assert.ok(first.length > 0);
      stream.destroy();
    }
    assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
  });

  it("uploads small blobs in one PUT and large ones streamed in one PATCH", async () => {
    const repo = client.repository(proxy.host, "org/chunks");
    const small = randomBlob(300 * 1024);
    const large = randomBlob(3 * 1024 * 1024 + 123);
    const before = proxy.records.length;
    await repo.putBlob(small.descriptor, pieces(small.bytes));
    const smallRequests = proxy.records.slice(before);
    assert.deepEqual(smallRequests.map((r) => r.method), ["POST", "PUT"]);
    assert.equal(smallRequests[1]!.requestBytes, small.bytes.length);

    const middle = proxy.records.length;
    await repo.putBlob(large.descriptor, pieces(large.bytes));
    const largeRequests = proxy.records.slice(middle);
    assert.deepEqual(largeRequests.map((r) => `${r.method} ${r.status}`), ["POST 202", "PATCH 202", "PUT 201"]);
    assert.equal(largeRequests[1]!.requestBytes, large.bytes.length);
    assert.equal(largeRequests[2]!.requestBytes, 0);

    assert.deepEqual(await readAll(await repo.getBlob(large.descriptor)), large.bytes);
    assert.deepEqual(await readAll(await repo.getBlob(small.descriptor)), small.bytes);
  });

  it("hashes a verified download only once when it is streamed into another repository", async () => {
    const source = client.repository(registry.host, "org/verified-source");
    const target = client.repository(registry.host, "org/verified-target");
    const layer = randomBlob(2 * 1024 * 1024);
    await source.putBlob(layer.descriptor, pieces(layer.bytes));
    await target.putBlob(layer.descriptor, await source.getBlob(layer.descriptor));
    assert.deepEqual(await readAll(await target.getBlob(layer.descriptor)), layer.bytes);
  });

  it("refuses to commit a blob whose content does not match its descriptor", async () => {
    const repo = client.repository(registry.host, "org/corrupt-upload");
    const good = randomBlob(2 * 1024 * 1024);
    const other = Buffer.from(good.bytes);
    other[100] = other[100]! ^ 1;
    await assert.rejects(repo.putBlob(good.descriptor, pieces(other)), (error: Error & { kind?: string }) => {
      assert.equal(error.kind, "invalid-input");
      assert.match(error.message, /does not match its descriptor/);
      return true;
    });
    assert.equal(await repo.hasBlob(good.descriptor), false);
    for (const size of [good.bytes.length + 100, good.bytes.length - 100]) {
      const descriptor = { ...good.descriptor, size };
      await assert.rejects(repo.putBlob(descriptor, pieces(good.bytes)), (error: Error & { kind?: string }) => {
        assert.equal(error.kind, "invalid-input");
        assert.match(error.message, size > good.bytes.length ? /content ended after 2097152 bytes, its descriptor says 2097252/ : /content is longer than the 2097052 bytes/);
        return true;
      });
    }
    assert.equal(await repo.hasBlob(good.descriptor), false);
  });

  it("mounts a blob from another repository without uploading its bytes", async () => {
    const source = client.repository(proxy.host, "org/source");
    const target = client.repository(proxy.host, "org/target");
    const layer = randomBlob(512 * 1024);
    await source.putBlob(layer.descriptor, pieces(layer.bytes));
    const uploadedBefore = proxy.uploadedBytes();
    const start = proxy.records.length;
    assert.equal(await target.mountBlob(layer.descriptor, source), true);
    assert.equal(proxy.uploadedBytes() - uploadedBefore, 0);
    assert.deepEqual(proxy.records.slice(start).map((r) => [r.method, r.status]), [["POST", 201]]);
    assert.equal(await target.hasBlob(layer.descriptor), true);
  });

  it("answers false for a mount the registry cannot do (202) and leaves no upload behind", async () => {
    const source = client.repository(registry.host, "org/source-empty");
    const target = client.repository(registry.host, "org/target-202");
    const unknown = randomBlob(100);
    assert.equal(await target.mountBlob(unknown.descriptor, source), false);
    assert.equal(await target.hasBlob(unknown.descriptor), false);
    // A different registry never mounts.
    const elsewhere = client.repository(proxy.host, "org/source");
    assert.equal(await target.mountBlob(unknown.descriptor, elsewhere), false);
  });

  it("lists all tags of a repository", async () => {
    const repo = client.repository(registry.host, "org/tagged");
    const image = testImage([10]);
    const tags = ["1.0.0", "1.1.0", "2.0.0", "2.1.0", "3.0.0"];
    for (const tag of tags) await pushImage(repo, image, tag);
    assert.deepEqual((await repo.listTags()).sort(), tags);
    await assert.rejects(client.repository(registry.host, "org/never-pushed").listTags(), (error: Error & { kind?: string }) => {
      assert.equal(error.kind, "not-found");
      assert.match(error.message, /tags of 127\.0\.0\.1:\d+\/org\/never-pushed not found .*NAME_UNKNOWN/);
      return true;
    });
  });

  it("follows Link pagination of the catalog (n=2 over 5 repositories)", async () => {
    const fresh = await startRegistry({ ports: PORTS });
    const paging = new RegistryClient({ pageSize: 2, env: {} });
    try {
      const proxied = await startRegistryProxy(fresh, PORTS);
      try {
        const names = ["a/one", "a/two", "b/three", "b/four", "c/five"];
        const image = testImage([10]);
        for (const name of names) await pushImage(paging.repository(fresh.host, name), image, "1");
        const start = proxied.records.length;
        assert.deepEqual(await paging.catalog(proxied.host), [...names].sort());
        const pages = proxied.records.slice(start).filter((r) => r.path.startsWith("/v2/_catalog"));
        assert.deepEqual(pages.map((p) => p.path), ["/v2/_catalog?n=2", "/v2/_catalog?last=a%2Ftwo&n=2", "/v2/_catalog?last=b%2Fthree&n=2"]);
      } finally {
        await proxied.close();
      }
    } finally {
      await paging.close();
      await fresh.stop();
    }
  });

  it("deletes a manifest by digest, and explains that this registry does not delete tags", async () => {
    const repo = client.repository(registry.host, "org/deleting");
    const image = testImage([10]);
    await pushImage(repo, image, "gone");
    await assert.rejects(repo.delete("gone"), (error: Error & { kind?: string; hint?: string }) => {
      assert.match(error.message, /manifest 127\.0\.0\.1:\d+\/org\/deleting:gone/);
      assert.match(error.hint ?? "", /by digest/);
      return true;
    });
    await repo.delete(image.digest);
    await assert.rejects(repo.resolve(image.digest), { kind: "not-found" });
    await assert.rejects(repo.resolve("gone"), { kind: "not-found" });
  });

  it("finds referrers through the tag-schema fallback when the registry has no referrers API", async () => {
    const repo = client.repository(proxy.host, "org/referred");
    const image = testImage([10]);
    await pushImage(repo, image, "1.0.0");
    const empty = blob(Buffer.from("{}"), MediaTypes.ociEmpty);
    const subject = { mediaType: MediaTypes.ociManifest, digest: image.digest, size: image.manifest.length };
    const sbom = blob(Buffer.from('{"spdxVersion":"SPDX-2.3"}'), "application/spdx+json");
    await repo.putBlob(empty.descriptor, pieces(empty.bytes));
    await repo.putBlob(sbom.descriptor, pieces(sbom.bytes));
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        artifactType: "application/spdx+json",
        config: empty.descriptor,
        layers: [sbom.descriptor],
        subject,
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
      }),
    );
    assert.deepEqual(await repo.referrers(image.digest), []);
    const pushed = await repo.putManifest(artifact, MediaTypes.ociManifest);
    const referrers = await repo.referrers(image.digest);
    assert.equal(referrers.length, 1);
    assert.equal(referrers[0]!.digest, pushed.digest);
    assert.equal(referrers[0]!.artifactType, "application/spdx+json");
    assert.deepEqual(await repo.referrers(image.digest, "application/vnd.other"), []);
    assert.ok(proxy.records.some((r) => r.path.includes("/referrers/") && r.status === 404), "asked the referrers API first");
    assert.ok((await repo.listTags()).includes(`sha256-${image.digest.slice(7)}`));
    // Pushing the same referrer again does not duplicate it.
    await repo.putManifest(artifact, MediaTypes.ociManifest);
    assert.equal((await repo.referrers(image.digest)).length, 1);
  });
});
