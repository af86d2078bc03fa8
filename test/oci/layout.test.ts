import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import { copy, OciLayout, REF_NAME, sha256 } from "../../src/oci/index.ts";
import { readAll, writeIndex } from "./images.ts";

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe("OCI image layout", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-layout-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a layout other tools read: oci-layout, index.json with ref.name, blobs/sha256", async () => {
    const layout = await OciLayout.open(join(dir, "a"), { create: true });
    const written = await writeIndex(layout, { tag: "3.7.0", attestations: true });
    assert.deepEqual(JSON.parse(await readFile(join(dir, "a", "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(await readFile(join(dir, "a", "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => [m.digest, m.annotations[REF_NAME]]), [[written.descriptor.digest, "3.7.0"]]);
    const blob = await readFile(layout.blobPath(written.descriptor.digest));
    assert.equal(sha256(blob), written.descriptor.digest);
    // Nothing half-written stays behind.
    assert.deepEqual((await listFiles(join(dir, "a"))).filter((f) => f.includes(".tmp-")), []);
  });

  it("round-trips an index between two layouts with the same digests, and skips what is there", async () => {
    const source = await OciLayout.open(join(dir, "a"));
    const target = await OciLayout.open(join(dir, "b"), { create: true });
    const first = await copy(source, "3.7.0", target, "copied");
    const sourceDigest = (await source.resolve("3.7.0")).digest;
    assert.equal(first.descriptor.digest, sourceDigest);
    assert.equal((await target.resolve("copied")).digest, sourceDigest);
    assert.equal(first.bytesSkipped, 0);
    assert.ok(first.bytesCopied > 0);
    const blobsA = (await listFiles(join(dir, "a", "blobs"))).filter((f) => f.includes("/"));
    const blobsB = (await listFiles(join(dir, "b", "blobs"))).filter((f) => f.includes("/"));
    assert.deepEqual(blobsB, blobsA);
    const again = await copy(source, "3.7.0", target, "again");
    assert.equal(again.bytesCopied, 0);
    assert.equal(again.bytesSkipped, first.bytesCopied);
    assert.deepEqual((await target.listTags()).sort(), ["again", "copied"]);
  });

  it("moves a tag, keeps unnamed images, deletes tags", async () => {
    const layout = await OciLayout.open(join(dir, "c"), { create: true });
    const one = await writeIndex(layout, { tag: "t", platforms: ["linux/amd64"] });
    const two = await writeIndex(layout, { tag: "t", platforms: ["linux/amd64"] });
    assert.equal((await layout.resolve("t")).digest, two.descriptor.digest);
    assert.notEqual(one.descriptor.digest, two.descriptor.digest);
    await layout.putManifest(one.bytes, one.descriptor.mediaType, "");
    assert.deepEqual(await layout.listTags(), ["t"]);
    await assert.rejects(layout.resolve(""), (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found" && /holds 2 images/.test(e.message));
    await layout.delete("t");
    assert.equal((await layout.resolve("")).digest, one.descriptor.digest);
    await assert.rejects(layout.resolve("t"), (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found");
  });

  it("catches a blob whose content does not match its digest", async () => {
    const layout = await OciLayout.open(join(dir, "a"));
    const stored = await layout.getManifest("3.7.0");
    const index = JSON.parse(new TextDecoder().decode(stored.bytes)) as { manifests: { digest: string; size: number; mediaType: string }[] };
    const image = await layout.getManifest(index.manifests[0]!.digest);
    const layer = (JSON.parse(new TextDecoder().decode(image.bytes)) as { layers: { digest: string; size: number; mediaType: string }[] }).layers[0]!;
    const path = layout.blobPath(layer.digest);
    const original = await readFile(path);
    const broken = Buffer.from(original);
    broken[broken.length >> 1] = broken[broken.length >> 1]! ^ 0xff;
    await writeFile(path, broken);
    try {
      await assert.rejects(readAll(await layout.getBlob(layer)), (e: unknown) => e instanceof ImagewrightError && e.kind === "invalid-input" && /does not match its digest/.test(e.message));
      const target = await OciLayout.open(join(dir, "d"), { create: true });
      await assert.rejects(copy(layout, "3.7.0", target, "x"), (e: unknown) => e instanceof ImagewrightError && /does not match/.test(e.message));
      await assert.rejects(target.resolve("x"), (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found");
      assert.equal(await target.hasBlob(layer), false);
    } finally {
      await writeFile(path, original);
    }
    // A blob written with the wrong content is refused before it becomes visible.
    const target = await OciLayout.open(join(dir, "e"), { create: true });
    await assert.rejects(target.putBlob(layer, Readable.from([broken])), (e: unknown) => e instanceof ImagewrightError && /does not match/.test(e.message));
    assert.equal(await target.hasBlob(layer), false);
    assert.deepEqual((await listFiles(join(dir, "e"))).filter((f) => f.includes(".tmp-")), []);
  });

  it("says what is wrong with a directory that is not a layout", async () => {
    await assert.rejects(OciLayout.open(join(dir, "missing")), (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found" && e.input === `oci:${join(dir, "missing")}`);
    const bad = join(dir, "bad");
    const layout = await OciLayout.open(bad, { create: true });
    await writeFile(join(bad, "index.json"), '{"schemaVersion":2,"manifests":[{"mediaType":"x","size":1}]}');
    await assert.rejects(layout.listTags(), (e: unknown) => e instanceof ImagewrightError && e.place === "$.manifests[0].digest" && e.input === join(bad, "index.json"));
    await writeFile(join(bad, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    await assert.rejects(OciLayout.open(bad), (e: unknown) => e instanceof ImagewrightError && e.place === "$.imageLayoutVersion");
  });
});
