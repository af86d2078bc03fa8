// An OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>) as
// an ImageStore: tags are `org.opencontainers.image.ref.name` annotations,
// writes are atomic (temp file + rename), reads are digest-verified.

import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ImagewrightError } from "../errors/index.ts";
import { DigestVerifier, isDigest, parseDigest, sha256, verifyBytes } from "./digest.ts";
import { MANIFEST_SIZE_LIMIT, parseJsonDocument, parseManifest } from "./manifest.ts";
import { MediaTypes } from "./model.ts";
import type { Descriptor, ImageIndex, ImageStore, StoredManifest } from "./model.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Writes a file so readers see the old or the new content, never half of it. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export class OciLayout implements ImageStore {
  readonly name: string;
  readonly path: string;
  // index.json is read-modify-written; one writer at a time within this process.
  private indexWrites: Promise<unknown> = Promise.resolve();

  private constructor(path: string) {
    this.path = path;
    this.name = `oci:${path}`;
  }

  /** Opens a layout; with `create`, makes the directory and its files when missing. */
  static async open(path: string, options: { create?: boolean } = {}): Promise<OciLayout> {
    const layout = new OciLayout(path);
    const marker = join(path, "oci-layout");
    let text: string | undefined;
    try {
      text = await readFile(marker, "utf8");
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    if (text === undefined) {
      if (options.create !== true) {
        throw new ImagewrightError("not-found", `no OCI image layout at ${path} (it has no oci-layout file)`, { input: layout.name });
      }
      await mkdir(join(path, "blobs", "sha256"), { recursive: true });
      await writeFileAtomic(marker, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      await writeFileAtomic(join(path, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }));
      return layout;
    }
    const version = (parseJsonDocument(text, `${marker}`) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (typeof version !== "string" || !version.startsWith("1.")) {
      throw new ImagewrightError("invalid-input", `unsupported image layout version ${JSON.stringify(version)}`, { input: marker, place: "$.imageLayoutVersion" });
    }
    return layout;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.path, "blobs", algorithm, hex);
  }

  async readIndex(): Promise<ImageIndex> {
    const file = join(this.path, "index.json");
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      if (isMissing(error)) throw new ImagewrightError("invalid-input", `OCI layout has no index.json`, { input: file });
      throw error;
    }
    const parsed = parseManifest(bytes, file, MediaTypes.ociIndex);
    if (parsed.kind !== "index") throw new ImagewrightError("invalid-input", "index.json is not an image index", { input: file, place: "$" });
    return parsed.index;
  }

  private updateIndex(change: (entries: Descriptor[]) => Descriptor[]): Promise<void> {
    const next = this.indexWrites.then(async () => {
      const index = await this.readIndex();
      index.manifests = change(index.manifests);
      await writeFileAtomic(join(this.path, "index.json"), JSON.stringify(index));
    });
    this.indexWrites = next.catch(() => undefined);
    return next;
  }

  async resolve(reference: string): Promise<Descriptor> {
    const entries = (await this.readIndex()).manifests;
    const plain = (entry: Descriptor): Descriptor => ({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size, ...(entry.platform ? { platform: entry.platform } : {}) });
    if (reference === "") {
      if (entries.length === 1) return plain(entries[0]!);
      throw new ImagewrightError("not-found", `${this.name} holds ${entries.length} images; name one with oci:${this.path}:<tag>`, {
        input: this.name,
        ...(entries.length > 0 ? { hint: `tags: ${entries.map((e) => e.annotations?.[REF_NAME] ?? e.digest).join(", ")}` } : {}),
      });
    }
    if (isDigest(reference)) {
      const entry = entries.find((e) => e.digest === reference);
      if (entry) return plain(entry);
      // Children of an index live only as blobs; their media type is in their own bytes.
      const bytes = await this.readManifestBlob(reference);
      return { mediaType: parseManifest(bytes, `${this.name}@${reference}`).mediaType, digest: reference, size: bytes.byteLength };
    }
    const entry = entries.find((e) => e.annotations?.[REF_NAME] === reference);
    if (!entry) {
      const tags = entries.map((e) => e.annotations?.[REF_NAME]).filter((t) => t !== undefined);
      throw new ImagewrightError("not-found", `no image tagged "${reference}" in ${this.name}`, { input: `${this.name}:${reference}`, ...(tags.length > 0 ? { hint: `tags: ${tags.join(", ")}` } : {}) });
    }
    return plain(entry);
  }

  private async readManifestBlob(digest: string, size?: number): Promise<Buffer> {
    const path = this.blobPath(digest);
    let length: number;
    try {
      length = (await stat(path)).size;
    } catch (error) {
      if (isMissing(error)) throw new ImagewrightError("not-found", `manifest ${digest} is not in ${this.name}`, { input: `${this.name}@${digest}` });
      throw error;
    }
    if (length > MANIFEST_SIZE_LIMIT) {
      throw new ImagewrightError("invalid-input", `manifest is ${length} bytes, more than the ${MANIFEST_SIZE_LIMIT}-byte limit`, { input: `${this.name}@${digest}` });
    }
    const bytes = await readFile(path);
    verifyBytes(bytes, { digest, ...(size === undefined ? {} : { size }) }, `${this.name}@${digest}`);
    return bytes;
  }

  async getManifest(reference: string): Promise<StoredManifest> {
    const descriptor = await this.resolve(reference);
    const bytes = await this.readManifestBlob(descriptor.digest, descriptor.size);
    return { descriptor, bytes };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    const descriptor: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.byteLength };
    const path = this.blobPath(descriptor.digest);
    if (!(await exists(path))) await writeFileAtomic(path, bytes);
    if (tag !== undefined) {
      await this.updateIndex((entries) => {
        if (tag === "") {
          return entries.some((e) => e.digest === descriptor.digest && e.annotations?.[REF_NAME] === undefined) ? entries : [...entries, descriptor];
        }
        return [...entries.filter((e) => e.annotations?.[REF_NAME] !== tag), { ...descriptor, annotations: { [REF_NAME]: tag } }];
      });
    }
    return descriptor;
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    try {
      return (await stat(this.blobPath(descriptor.digest))).size === descriptor.size;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async getBlob(descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    const input = `${this.name}@${descriptor.digest}`;
    if (!(await exists(path))) throw new ImagewrightError("not-found", `blob ${descriptor.digest} is not in ${this.name}`, { input });
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, input);
    const file = createReadStream(path);
    file.on("error", (error) => verifier.destroy(error));
    return file.pipe(verifier);
  }

  async putBlob(descriptor: Descriptor, content: Readable, options: { verified?: boolean } = {}): Promise<void> {
    const path = this.blobPath(descriptor.digest);
    await mkdir(join(path, ".."), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const input = `blob ${descriptor.digest} for ${this.name}`;
    try {
      if (options.verified === true) {
        // The source stream errors before its end on a bad digest, so the rename below never happens for one.
        await pipeline(content, createWriteStream(temporary));
        const { size } = await stat(temporary);
        if (size !== descriptor.size) throw new ImagewrightError("invalid-input", `content is ${size} bytes, its descriptor says ${descriptor.size}`, { input, place: `byte ${size}` });
      } else {
        await pipeline(content, new DigestVerifier(descriptor.digest, descriptor.size, input), createWriteStream(temporary));
      }
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  async listTags(): Promise<string[]> {
    return (await this.readIndex()).manifests.map((e) => e.annotations?.[REF_NAME]).filter((t) => t !== undefined);
  }

  /** Removes a tag (or every index.json entry of a digest); blobs stay, as in a registry before garbage collection. */
  async delete(reference: string): Promise<void> {
    const tags = await this.listTags();
    if (!isDigest(reference) && !tags.includes(reference)) {
      throw new ImagewrightError("not-found", `no image tagged "${reference}" in ${this.name}`, { input: `${this.name}:${reference}` });
    }
    await this.updateIndex((entries) => entries.filter((e) => (isDigest(reference) ? e.digest !== reference : e.annotations?.[REF_NAME] !== reference)));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}
