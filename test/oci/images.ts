// Generated test images: real gzip'd tar layers of random (incompressible)
// bytes, real configs, single- and multi-platform, with buildx-style
// attestation entries, written into any ImageStore. Shared by tests and bench.

import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { digestOf, formatPlatform, manifestBytes, MediaTypes, parsePlatform } from "../../src/oci/index.ts";
import type { Descriptor, ImageIndex, ImageManifest, ImageStore, Platform } from "../../src/oci/index.ts";

export interface GeneratedImage {
  platform: Platform;
  descriptor: Descriptor;
  bytes: Uint8Array;
  config: Descriptor;
  layers: Descriptor[];
  /** uncompressed tar digests, as the config lists them */
  diffIds: string[];
}

export interface GeneratedIndex {
  descriptor: Descriptor;
  bytes: Uint8Array;
  images: GeneratedImage[];
  attestations: Descriptor[];
}

async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, size: content.byteLength, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function putBytes(store: ImageStore, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const descriptor: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  if (!(await store.hasBlob(descriptor))) await store.putBlob(descriptor, Readable.from([Buffer.from(bytes)]));
  return descriptor;
}

/** One image of random layers (`layerSizes` bytes of content each) for `platform`. */
export async function writeImage(store: ImageStore, options: { platform?: string; layerSizes?: number[]; tag?: string; label?: string; docker?: boolean }): Promise<GeneratedImage> {
  const platform = parsePlatform(options.platform ?? "linux/amd64");
  const docker = options.docker === true;
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const [i, size] of (options.layerSizes ?? [1024, 4096]).entries()) {
    const layerTar = await tarOf(`data/${formatPlatform(platform).replaceAll("/", "-")}-${i}.bin`, randomBytes(size));
    diffIds.push(digestOf(layerTar));
    // Level 1: the content is random, so gzip would not shrink it anyway; this keeps generation quick.
    layers.push(await putBytes(store, docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip, gzipSync(layerTar, { level: 1 })));
  }
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    created: "2026-01-01T00:00:00Z",
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "KAFKA_HOME=/opt/kafka"],
      Entrypoint: ["/opt/kafka/bin/kafka-server-start.sh"],
      Cmd: ["/opt/kafka/config/server.properties"],
      WorkingDir: "/opt/kafka",
      User: "1000",
      ExposedPorts: { "9092/tcp": {} },
      Labels: { "org.opencontainers.image.title": options.label ?? "generated" },
    },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: "2026-01-01T00:00:00Z", created_by: `generated layer ${i}` })),
  };
  const configDescriptor = await putBytes(store, docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, new TextEncoder().encode(JSON.stringify(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
    config: configDescriptor,
    layers,
    ...(docker ? {} : { annotations: { "org.opencontainers.image.version": "3.7.0" } }),
  };
  const bytes = manifestBytes(manifest);
  const descriptor = await store.putManifest(bytes, manifest.mediaType!, options.tag);
  return { platform, descriptor: { ...descriptor, platform }, bytes, config: configDescriptor, layers, diffIds };
}

/** A multi-platform index of `platforms`, each with its own layers, optionally with an attestation per image. */
export async function writeIndex(
  store: ImageStore,
  options: { platforms?: string[]; layerSizes?: number[]; tag?: string; attestations?: boolean },
): Promise<GeneratedIndex> {
  const images: GeneratedImage[] = [];
  for (const platform of options.platforms ?? ["linux/amd64", "linux/arm64/v8"]) {
    images.push(await writeImage(store, { platform, ...(options.layerSizes === undefined ? {} : { layerSizes: options.layerSizes }) }));
  }
  const attestations: Descriptor[] = [];
  if (options.attestations === true) {
    for (const image of images) {
      const statement = new TextEncoder().encode(JSON.stringify({ _type: "https://in-toto.io/Statement/v0.1", subject: [{ digest: { sha256: image.descriptor.digest.slice(7) } }] }));
      const layer = await putBytes(store, "application/vnd.in-toto+json", statement);
      const config = await putBytes(store, MediaTypes.ociConfig, new TextEncoder().encode(JSON.stringify({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } })));
      const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [{ ...layer, annotations: { "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" } }] };
      const descriptor = await store.putManifest(manifestBytes(manifest), MediaTypes.ociManifest);
      attestations.push({
        ...descriptor,
        platform: { architecture: "unknown", os: "unknown" },
        annotations: { "vnd.docker.reference.digest": image.descriptor.digest, "vnd.docker.reference.type": "attestation-manifest" },
      });
    }
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [...images.map((i) => i.descriptor), ...attestations],
    annotations: { "org.opencontainers.image.ref.name": "generated" },
  };
  const bytes = manifestBytes(index);
  const descriptor = await store.putManifest(bytes, MediaTypes.ociIndex, options.tag);
  return { descriptor, bytes, images, attestations };
}

/** Reads a whole stream (small blobs only). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
