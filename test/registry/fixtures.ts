// Small images built in the test: random layer blobs, a config and a manifest
// whose bytes and digests are computed here, so every assertion has a known answer.

import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { MediaTypes, type Descriptor } from "../../src/oci/model.ts";
import type { RegistryRepository } from "../../src/registry/index.ts";

export interface Blob {
  descriptor: Descriptor;
  bytes: Buffer;
}

export function blob(bytes: Buffer, mediaType: string = MediaTypes.ociLayerGzip): Blob {
  return { descriptor: { mediaType, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length }, bytes };
}

export function randomBlob(size: number, mediaType?: string): Blob {
  return blob(randomBytes(size), mediaType);
}

export interface TestImage {
  config: Blob;
  layers: Blob[];
  manifest: Buffer;
  digest: string;
}

/** A manifest over a fresh config and layers of the given sizes. */
export function testImage(layerSizes: readonly number[], extra: Record<string, unknown> = {}): TestImage {
  const config = blob(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, created: new Date(0).toISOString(), nonce: randomBytes(8).toString("hex") })), MediaTypes.ociConfig);
  const layers = layerSizes.map((size) => randomBlob(size));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: config.descriptor, layers: layers.map((l) => l.descriptor), ...extra }),
  );
  return { config, layers, manifest, digest: `sha256:${createHash("sha256").update(manifest).digest("hex")}` };
}

/** Pushes blobs first, then the manifest (by tag when given): the order that keeps tags complete. */
export async function pushImage(repository: RegistryRepository, image: TestImage, tag?: string): Promise<Descriptor> {
  for (const b of [image.config, ...image.layers]) {
    if (!(await repository.hasBlob(b.descriptor))) await repository.putBlob(b.descriptor, Readable.from([b.bytes]));
  }
  return repository.putManifest(image.manifest, MediaTypes.ociManifest, tag);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A stream of `bytes` in pieces of `piece` bytes, like a network source. */
export function pieces(bytes: Buffer, piece = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
    })(),
  );
}
