// The OCI data model every image location speaks: descriptors, manifests,
// indexes, and the ImageStore interface that a registry repository, an OCI
// layout directory and a docker archive each implement. Operations such as
// copy are written once against ImageStore.

import type { Readable } from "node:stream";

export const MediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** Manifest media types a registry may answer with, in Accept-header order. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

export interface Descriptor {
  mediaType: string;
  /** `algorithm:hex`, e.g. `sha256:…` */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest or index as stored: the exact bytes (their digest is the identity) and what they say. */
export interface StoredManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

/**
 * A place images live: one registry repository, one OCI layout directory, one
 * docker archive. Byte-level and content-addressed, so copying between any two
 * preserves digests. Every read is checked against its digest by the store.
 */
export interface ImageStore {
  /** How to name this location in messages, e.g. `127.0.0.1:5000/org/kafka`, `oci:/tmp/layout`. */
  readonly name: string;

  /**
   * The descriptor a tag or digest points at (HEAD where the location can). Throws not-found.
   * Layouts and archives also take "" for their only image (they can hold unnamed images).
   */
  resolve(reference: string): Promise<Descriptor>;
  /** A manifest or index by tag or digest; bytes are digest-verified and size-limited. */
  getManifest(reference: string): Promise<StoredManifest>;
  /**
   * Stores manifest bytes as-is; with a tag, points the tag at them. Returns their descriptor.
   * Layouts and archives take the tag "" to record an unnamed top-level image.
   */
  putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor>;

  hasBlob(descriptor: Descriptor): Promise<boolean>;
  /** Blob content; the stream errors at its end if the content does not match the digest. */
  getBlob(descriptor: Descriptor): Promise<Readable>;
  /**
   * Writes a blob whose digest and size are known up front; verified before it becomes visible.
   * `verified: true` says `content` is another store's getBlob stream, which already fails
   * before its end on a mismatch: a store may then skip hashing the bytes a second time.
   */
  putBlob(descriptor: Descriptor, content: Readable, options?: { verified?: boolean }): Promise<void>;
  /**
   * Makes a blob of `from` available here without moving its bytes (a registry's
   * cross-repository mount). Returns false when this location cannot, and the
   * caller then copies the bytes.
   */
  mountBlob?(descriptor: Descriptor, from: ImageStore): Promise<boolean>;

  listTags(): Promise<string[]>;
  /** Removes a tag or manifest where the location allows it. */
  delete?(reference: string): Promise<void>;

  /**
   * Manifest media types this location can hold, when it cannot hold them all
   * (a docker archive holds images, not indexes). Copy checks it before moving bytes.
   */
  readonly accepts?: readonly string[];
  /** Makes writes visible where a location batches them (a docker archive is one tar, written at the end). */
  commit?(): Promise<void>;
  /** Drops batched writes after a failed copy, leaving the location as it was. */
  abort?(): Promise<void>;
}
