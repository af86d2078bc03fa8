// A `docker save` tarball as an ImageStore. Reads the legacy layout
// (<id>/layer.tar, <id>.json) and the newer one (blobs/sha256/…, index.json);
// writes archives `docker load` accepts that are also OCI layouts, so a copy
// back out keeps the manifest digest. See docs/oci.md for what is preserved.

import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname, basename, join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { ImagewrightError } from "../errors/index.ts";
import { DigestVerifier, isDigest, sha256, verifyBytes } from "./digest.ts";
import { OciLayout, REF_NAME } from "./layout.ts";
import { isImageMediaType, manifestBytes, parseConfig, parseJsonDocument, parseManifest, MANIFEST_SIZE_LIMIT } from "./manifest.ts";
import { MediaTypes } from "./model.ts";
import type { Descriptor, ImageIndex, ImageManifest, ImageStore, StoredManifest } from "./model.ts";
import { formatReference, parseRegistryReference } from "./reference.ts";

/** Where a file's content sits inside the tarball. */
interface TarEntry {
  offset: number;
  size: number;
}

interface ArchivedImage {
  names: string[];
  descriptor: Descriptor;
  bytes: Uint8Array;
}

const BLOCK = 512;
// containerd's annotation for the full image name in an OCI layout `docker save` writes.
const IMAGE_NAME = "io.containerd.image.name";

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString("utf8");
}

function numeric(header: Buffer, start: number, length: number): number {
  const first = header[start]!;
  if (first & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more.
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + header[i]!;
    return value;
  }
  const text = field(header, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function normalizeName(name: string): string {
  return posix.normalize(name.replace(/^\.?\//, "")).replace(/\/$/, "");
}

/**
 * Lists a tar file's entries with their byte offsets, reading only headers, so
 * blobs can be streamed straight from their place in the file (tar-stream only
 * reads sequentially). Understands ustar, pax and GNU long names, and links.
 */
async function indexTar(file: FileHandle, input: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const links = new Map<string, string>();
  const { size: total } = await file.stat();
  const header = Buffer.alloc(BLOCK);
  await file.read(header, 0, Math.min(BLOCK, total), 0);
  if (header[0] === 0x1f && header[1] === 0x8b) {
    throw new ImagewrightError("invalid-input", "the archive is gzip-compressed; docker-archive: reads the uncompressed tar `docker save` writes", { input, place: "byte 0", hint: "gunzip it first" });
  }
  if (total < BLOCK) throw new ImagewrightError("invalid-input", `not a tar archive (${total} bytes, less than one tar block)`, { input, place: "byte 0" });
  let offset = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  const readData = async (at: number, length: number): Promise<Buffer> => {
    const data = Buffer.alloc(length);
    await file.read(data, 0, length, at);
    return data;
  };
  while (offset + BLOCK <= total) {
    await file.read(header, 0, BLOCK, offset);
    if (header.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== numeric(header, 148, 8)) {
      throw new ImagewrightError("invalid-input", "not a tar archive (header checksum mismatch)", { input, place: `byte ${offset}` });
    }
    const type = String.fromCharCode(header[156]!);
    const size = paxSize ?? numeric(header, 124, 12);
    const dataStart = offset + BLOCK;
    if (dataStart + size > total) throw new ImagewrightError("invalid-input", `tar entry is cut off: ${size} bytes announced, ${total - dataStart} left`, { input, place: `byte ${offset}` });
    const prefix = header.subarray(257, 263).toString("latin1").startsWith("ustar") ? field(header, 345, 155) : "";
    const name = normalizeName(paxPath ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100)));
    let consumed = true;
    if (type === "x") {
      const records = (await readData(dataStart, size)).toString("utf8");
      for (const match of records.matchAll(/\d+ (path|size)=([^\n]*)\n/g)) {
        if (match[1] === "path") paxPath = match[2];
        else paxSize = Number(match[2]);
      }
      consumed = false;
    } else if (type === "L") {
      longName = (await readData(dataStart, size)).toString("utf8").replace(/\0+$/, "");
      consumed = false;
    } else if (type === "0" || type === "\0" || type === "7") {
      entries.set(name, { offset: dataStart, size });
    } else if (type === "2") {
      links.set(name, normalizeName(posix.join(posix.dirname(name), field(header, 157, 100))));
    } else if (type === "1") {
      links.set(name, normalizeName(field(header, 157, 100)));
    }
    if (consumed) {
      longName = undefined;
      paxPath = undefined;
      paxSize = undefined;
    }
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  // Legacy saves link repeated layers (`<id>/layer.tar -> ../<other>/layer.tar`).
  for (const [name, target] of links) {
    let resolved: string | undefined = target;
    for (let hops = 0; hops < 16 && resolved !== undefined && !entries.has(resolved); hops++) resolved = links.get(resolved);
    const entry = resolved === undefined ? undefined : entries.get(resolved);
    if (entry) entries.set(name, entry);
  }
  return entries;
}

/** Canonical form of an image name for matching `kafka:3.7.0` against `docker.io/library/kafka:3.7.0`. */
function canonicalName(name: string): string {
  const parsed = parseRegistryReference(name);
  return formatReference({ ...parsed, tag: parsed.tag ?? "latest" });
}

interface ManifestJsonEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function asManifestJson(document: unknown, input: string): ManifestJsonEntry[] {
  if (!Array.isArray(document)) throw new ImagewrightError("invalid-input", "manifest.json is a JSON array of images", { input, place: "$" });
  return document.map((entry: unknown, i) => {
    const e = entry as Partial<Record<string, unknown>> | null;
    const fail = (key: string, what: string): never => {
      throw new ImagewrightError("invalid-input", `manifest.json: $[${i}].${key} ${what}`, { input, place: `$[${i}].${key}` });
    };
    if (typeof e !== "object" || e === null) throw new ImagewrightError("invalid-input", `manifest.json: $[${i}] is not an object`, { input, place: `$[${i}]` });
    if (typeof e.Config !== "string") fail("Config", "must be a file name");
    if (!Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === "string")) fail("Layers", "must be a list of file names");
    if (e.RepoTags !== undefined && e.RepoTags !== null && !(Array.isArray(e.RepoTags) && e.RepoTags.every((t) => typeof t === "string"))) fail("RepoTags", "must be a list of names");
    return e as unknown as ManifestJsonEntry;
  });
}

export class DockerArchive implements ImageStore {
  readonly name: string;
  readonly path: string;
  readonly accepts = [MediaTypes.ociManifest, MediaTypes.dockerManifest] as const;
  private entries = new Map<string, TarEntry>();
  private blobs = new Map<string, TarEntry>();
  private images: ArchivedImage[] = [];
  private manifests = new Map<string, Uint8Array>();
  // Writing: blobs and manifests gather in an OCI layout beside the target until commit().
  private staging: OciLayout | undefined;
  private stagingPath: string | undefined;
  private named: { digest: string; mediaType: string; name: string }[] = [];

  private constructor(path: string) {
    this.path = path;
    this.name = `docker-archive:${path}`;
  }

  /** Opens an archive to read it. */
  static async read(path: string): Promise<DockerArchive> {
    const archive = new DockerArchive(path);
    let file: FileHandle;
    try {
      file = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ImagewrightError("not-found", `no docker archive at ${path}`, { input: archive.name });
      throw error;
    }
    try {
      await archive.load(file);
    } finally {
      await file.close();
    }
    return archive;
  }

  /** Starts a new archive at `path`; it replaces any file there when commit() runs, like `docker save -o`. */
  static async create(path: string): Promise<DockerArchive> {
    const archive = new DockerArchive(path);
    archive.stagingPath = join(dirname(path), `.${basename(path)}.imagewright-${process.pid}-${randomBytes(4).toString("hex")}`);
    archive.staging = await OciLayout.open(archive.stagingPath, { create: true });
    return archive;
  }

  private async load(file: FileHandle): Promise<void> {
    this.entries = await indexTar(file, this.name);
    const read = async (name: string, limit = MANIFEST_SIZE_LIMIT): Promise<Buffer> => {
      const entry = this.entries.get(normalizeName(name));
      if (!entry) throw new ImagewrightError("invalid-input", `the archive has no ${name}`, { input: this.name, hint: "is this a `docker save` archive?" });
      if (entry.size > limit) throw new ImagewrightError("invalid-input", `${name} is ${entry.size} bytes, more than the ${limit}-byte limit`, { input: `${this.name}!${name}` });
      const data = Buffer.alloc(entry.size);
      await file.read(data, 0, entry.size, entry.offset);
      return data;
    };
    for (const [name, entry] of this.entries) {
      const match = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(name);
      if (match) this.blobs.set(`${match[1]}:${match[2]}`, entry);
    }
    // Manifests the archive stores as blobs (newer docker, and archives imagewright writes) keep their digest.
    const preserved = new Map<string, ArchivedImage>();
    if (this.entries.has("index.json")) {
      const input = `${this.name}!index.json`;
      const parsed = parseManifest(await read("index.json"), input, MediaTypes.ociIndex);
      if (parsed.kind !== "index") throw new ImagewrightError("invalid-input", "index.json is not an image index", { input, place: "$" });
      for (const entry of parsed.index.manifests) {
        if (!isImageMediaType(entry.mediaType) || !this.blobs.has(entry.digest)) continue;
        const bytes = await read(`blobs/${entry.digest.replace(":", "/")}`);
        verifyBytes(bytes, entry, `${this.name}@${entry.digest}`);
        const manifest = parseManifest(bytes, `${this.name}@${entry.digest}`, entry.mediaType);
        if (manifest.kind !== "image") continue;
        preserved.set(manifest.manifest.config.digest, { names: [], descriptor: { mediaType: manifest.mediaType, digest: entry.digest, size: bytes.byteLength }, bytes });
      }
    }
    const listInput = `${this.name}!manifest.json`;
    const list = asManifestJson(parseJsonDocument(await read("manifest.json"), listInput), listInput);
    for (const [i, entry] of list.entries()) {
      const configBytes = await read(entry.Config);
      const configDigest = sha256(configBytes);
      this.blobs.set(configDigest, this.entries.get(normalizeName(entry.Config))!);
      const config = parseConfig(configBytes, `${this.name}!${entry.Config}`);
      const names = (entry.RepoTags ?? []).map(canonicalName);
      const kept = preserved.get(configDigest);
      if (kept) {
        this.images.push({ ...kept, names });
        this.manifests.set(kept.descriptor.digest, kept.bytes);
        continue;
      }
      if (config.rootfs.diff_ids.length !== entry.Layers.length) {
        throw new ImagewrightError("invalid-input", `image ${i} lists ${entry.Layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`, { input: listInput, place: `$[${i}].Layers` });
      }
      const layers: Descriptor[] = [];
      for (const [j, layerName] of entry.Layers.entries()) {
        const layer = this.entries.get(normalizeName(layerName));
        if (!layer) throw new ImagewrightError("invalid-input", `the archive has no ${layerName}`, { input: listInput, place: `$[${i}].Layers[${j}]` });
        const named = /^blobs\/(sha256)\/([0-9a-f]{64})$/.exec(normalizeName(layerName));
        // A legacy layer.tar is the uncompressed layer, so its digest is the config's diff_id.
        const digest = named ? `${named[1]}:${named[2]}` : config.rootfs.diff_ids[j]!;
        const magic = Buffer.alloc(4);
        await file.read(magic, 0, 4, layer.offset);
        const mediaType = magic[0] === 0x1f && magic[1] === 0x8b ? MediaTypes.dockerLayerGzip : magic.readUInt32LE(0) === 0xfd2fb528 ? MediaTypes.ociLayerZstd : MediaTypes.dockerLayer;
        this.blobs.set(digest, layer);
        layers.push({ mediaType, digest, size: layer.size });
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: { mediaType: MediaTypes.dockerConfig, digest: configDigest, size: configBytes.byteLength },
        layers,
      };
      const bytes = manifestBytes(manifest);
      const descriptor = { mediaType: MediaTypes.dockerManifest, digest: sha256(bytes), size: bytes.byteLength };
      this.images.push({ names, descriptor, bytes });
      this.manifests.set(descriptor.digest, bytes);
    }
  }

  async resolve(reference: string): Promise<Descriptor> {
    if (this.staging) return this.staging.resolve(reference);
    if (reference === "") {
      if (this.images.length === 1) return this.images[0]!.descriptor;
      throw new ImagewrightError("not-found", `${this.name} holds ${this.images.length} images; name one with docker-archive:${this.path}:<name:tag>`, {
        input: this.name,
        ...(this.images.length > 0 ? { hint: `names: ${this.images.flatMap((i) => i.names).join(", ")}` } : {}),
      });
    }
    if (isDigest(reference)) {
      const image = this.images.find((i) => i.descriptor.digest === reference);
      if (image) return image.descriptor;
      throw new ImagewrightError("not-found", `no image ${reference} in ${this.name}`, { input: `${this.name}@${reference}` });
    }
    const wanted = canonicalName(reference);
    const image = this.images.find((i) => i.names.includes(wanted));
    if (!image) {
      throw new ImagewrightError("not-found", `no image named ${reference} in ${this.name}`, { input: `${this.name}:${reference}`, hint: `names: ${this.images.flatMap((i) => i.names).join(", ") || "(none)"}` });
    }
    return image.descriptor;
  }

  async getManifest(reference: string): Promise<StoredManifest> {
    if (this.staging) return this.staging.getManifest(reference);
    const descriptor = await this.resolve(reference);
    return { descriptor, bytes: this.manifests.get(descriptor.digest)! };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    const staging = this.writable();
    if (!isImageMediaType(mediaType)) {
      throw new ImagewrightError("invalid-input", `a docker archive holds images, not ${mediaType}`, { input: this.name, hint: "choose one platform with --platform" });
    }
    const descriptor = await staging.putManifest(bytes, mediaType);
    if (tag !== undefined) {
      this.named = this.named.filter((n) => n.name !== tag || tag === "");
      this.named.push({ digest: descriptor.digest, mediaType, name: tag });
    }
    return descriptor;
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    if (this.staging) return this.staging.hasBlob(descriptor);
    return this.blobs.get(descriptor.digest)?.size === descriptor.size;
  }

  async getBlob(descriptor: Descriptor): Promise<Readable> {
    if (this.staging) return this.staging.getBlob(descriptor);
    const entry = this.blobs.get(descriptor.digest);
    const input = `${this.name}@${descriptor.digest}`;
    if (!entry) throw new ImagewrightError("not-found", `blob ${descriptor.digest} is not in ${this.name}`, { input });
    if (entry.size === 0) {
      const verifier = new DigestVerifier(descriptor.digest, descriptor.size, input);
      verifier.end();
      return verifier;
    }
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, input);
    const file = createReadStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 });
    file.on("error", (error) => verifier.destroy(error));
    return file.pipe(verifier);
  }

  async putBlob(descriptor: Descriptor, content: Readable, options?: { verified?: boolean }): Promise<void> {
    await this.writable().putBlob(descriptor, content, options);
  }

  listTags(): Promise<string[]> {
    if (this.staging) return Promise.resolve(this.named.map((n) => n.name).filter((n) => n !== ""));
    return Promise.resolve(this.images.flatMap((i) => i.names));
  }

  private writable(): OciLayout {
    if (!this.staging) throw new ImagewrightError("usage", `${this.name} was opened for reading; imagewright writes docker archives only as a whole new file`, { input: this.name });
    return this.staging;
  }

  /**
   * Writes the tarball: blobs under blobs/sha256/ (layers as they are, compressed
   * or not, which `docker load` accepts), manifest.json for `docker load`, and
   * index.json + oci-layout so the manifest digest survives a round trip.
   */
  async commit(): Promise<void> {
    const staging = this.writable();
    const images: { manifest: ImageManifest; descriptor: Descriptor; name: string }[] = [];
    for (const entry of this.named) {
      const stored = await staging.getManifest(entry.digest);
      const parsed = parseManifest(stored.bytes, `${this.name}@${entry.digest}`, entry.mediaType);
      if (parsed.kind !== "image") continue;
      images.push({ manifest: parsed.manifest, descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: stored.bytes.byteLength }, name: entry.name });
    }
    const blobName = (digest: string): string => `blobs/${digest.replace(":", "/")}`;
    const list = images.map(({ manifest, name }) => ({
      Config: blobName(manifest.config.digest),
      RepoTags: name === "" ? [] : [name.includes(":", name.lastIndexOf("/") + 1) ? name : `${name}:latest`],
      Layers: manifest.layers.map((l) => blobName(l.digest)),
    }));
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: images.map(({ descriptor, name }) => {
        if (name === "") return descriptor;
        const full = canonicalName(name);
        return { ...descriptor, annotations: { [IMAGE_NAME]: full, [REF_NAME]: full.slice(full.lastIndexOf(":", full.length) + 1) } };
      }),
    };
    const written = new Set<string>();
    const pack = tar.pack();
    const temporary = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const output = pipeline(pack, createWriteStream(temporary));
    const addBytes = (name: string, bytes: Uint8Array): Promise<void> =>
      new Promise((resolve, reject) => pack.entry({ name, size: bytes.byteLength, mode: 0o644, mtime: new Date(0) }, Buffer.from(bytes), (error) => (error ? reject(error) : resolve())));
    const addBlob = async (descriptor: Descriptor): Promise<void> => {
      if (written.has(descriptor.digest)) return;
      written.add(descriptor.digest);
      const sink = pack.entry({ name: blobName(descriptor.digest), size: descriptor.size, mode: 0o644, mtime: new Date(0) });
      await pipeline(await staging.getBlob(descriptor), sink);
    };
    try {
      await addBytes("oci-layout", new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
      for (const { manifest, descriptor } of images) {
        await addBlob(descriptor);
        await addBlob(manifest.config);
        for (const layer of manifest.layers) await addBlob(layer);
      }
      await addBytes("index.json", new TextEncoder().encode(JSON.stringify(index)));
      await addBytes("manifest.json", new TextEncoder().encode(JSON.stringify(list)));
      pack.finalize();
      await output;
      await rename(temporary, this.path);
    } catch (error) {
      pack.destroy();
      await output.catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      throw error;
    } finally {
      await rm(this.stagingPath!, { recursive: true, force: true });
    }
  }

  async abort(): Promise<void> {
    if (this.stagingPath) await rm(this.stagingPath, { recursive: true, force: true });
  }
}
