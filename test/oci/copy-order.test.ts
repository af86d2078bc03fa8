// The order and bounds copy promises, observed on real OCI layouts: blobs before
// manifests, children before their index, the tag last, at most `concurrency`
// blobs in flight; nested indexes and Docker manifest lists copy like OCI ones.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { copy, manifestBytes, MediaTypes, OciLayout, parseManifest } from "../../src/oci/index.ts";
import type { CopyEvent, Descriptor, ImageIndex } from "../../src/oci/index.ts";
import { writeImage, writeIndex } from "./images.ts";

/** A real layout whose blob reads are watched: the most streams open at once. */
function watchBlobReads(layout: OciLayout): { store: OciLayout; most: () => number } {
  let open = 0;
  let most = 0;
  const store = Object.create(layout) as OciLayout;
  store.getBlob = async (descriptor: Descriptor): Promise<Readable> => {
    const stream = await layout.getBlob(descriptor);
    open++;
    most = Math.max(most, open);
    stream.once("close", () => open--);
    return stream;
  };
  return { store, most: () => most };
}

describe("copy order and bounds", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-copy-order-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes blobs, then children, then the index with its tag, never more than `concurrency` blobs at once", async () => {
    const source = await OciLayout.open(join(dir, "src"), { create: true });
    const generated = await writeIndex(source, { tag: "t", platforms: ["linux/amd64", "linux/arm64", "linux/s390x"], layerSizes: [40_000, 40_000, 40_000], attestations: true });
    const watched = watchBlobReads(source);
    const store = watched.store;
    const events: CopyEvent[] = [];
    const result = await copy(store, "t", await OciLayout.open(join(dir, "dst"), { create: true }), "copied", { concurrency: 2, onProgress: (e) => events.push(e) });
    assert.equal(result.descriptor.digest, generated.descriptor.digest);
    assert.equal(watched.most(), 2, "two blobs in flight at once, never more");
    const kinds = events.map((e) => e.type).filter((t) => t === "blob-done" || t === "manifest");
    const firstManifest = kinds.indexOf("manifest");
    assert.ok(firstManifest > 0 && kinds.slice(firstManifest).every((k) => k === "manifest"), "every blob before any manifest");
    const manifests = events.filter((e): e is Extract<CopyEvent, { type: "manifest" }> => e.type === "manifest");
    assert.equal(manifests.length, 7); // 3 images, 3 attestations, the index
    assert.equal(manifests.at(-1)!.descriptor.digest, generated.descriptor.digest);
    assert.equal(manifests.at(-1)!.tag, "copied");
    assert.ok(manifests.slice(0, -1).every((m) => m.tag === undefined), "only the last write tags");
    const plan = events.find((e) => e.type === "plan");
    assert.deepEqual(plan, { type: "plan", manifests: 7, blobs: 3 * 4 + 3 * 2, bytes: result.bytesCopied });
  });

  it("copies an index of indexes (children first) and a Docker manifest list, digests kept", async () => {
    const source = await OciLayout.open(join(dir, "nested"), { create: true });
    const inner = await writeIndex(source, { platforms: ["linux/amd64"] });
    const docker = await writeImage(source, { platform: "linux/arm64", docker: true });
    const list: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifestList,
      manifests: [{ mediaType: MediaTypes.dockerManifest, digest: docker.descriptor.digest, size: docker.descriptor.size, platform: docker.platform }],
    };
    const listDescriptor = await source.putManifest(manifestBytes(list), MediaTypes.dockerManifestList);
    const outer: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [inner.descriptor, listDescriptor] };
    const outerDescriptor = await source.putManifest(manifestBytes(outer), MediaTypes.ociIndex, "outer");
    const target = await OciLayout.open(join(dir, "nested-copy"), { create: true });
    const events: CopyEvent[] = [];
    const result = await copy(source, "outer", target, "outer", { onProgress: (e) => events.push(e) });
    assert.equal(result.descriptor.digest, outerDescriptor.digest);
    const order = events.flatMap((e) => (e.type === "manifest" ? [e.descriptor.digest] : []));
    assert.ok(order.indexOf(inner.images[0]!.descriptor.digest) < order.indexOf(inner.descriptor.digest));
    assert.ok(order.indexOf(docker.descriptor.digest) < order.indexOf(listDescriptor.digest));
    assert.equal(order.at(-1), outerDescriptor.digest);
    const copiedList = await target.getManifest(listDescriptor.digest);
    assert.equal(parseManifest(copiedList.bytes, "list").mediaType, MediaTypes.dockerManifestList);
    assert.equal(copiedList.descriptor.mediaType, MediaTypes.dockerManifestList);
  });
});
