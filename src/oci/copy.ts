// Copying an image or index from any ImageStore to any other: blobs first
// (skipped when present, mounted when the registry can, else streamed with
// bounded parallelism), then child manifests, then the index, the tag last —
// so no tag ever points at something incomplete.

import { Transform } from "node:stream";
import type { Readable, TransformCallback } from "node:stream";
import { ImagewrightError } from "../errors/index.ts";
import { isAttestation, isImageMediaType, isIndexMediaType, parseManifest } from "./manifest.ts";
import type { Descriptor, ImageStore, Platform } from "./model.ts";
import { describeEntry, selectPlatforms } from "./select.ts";
import { digestOf, isDigest } from "./digest.ts";

export type BlobOutcome = "copied" | "skipped" | "mounted";

export type CopyEvent =
  | { type: "plan"; manifests: number; blobs: number; bytes: number }
  | { type: "note"; message: string }
  | { type: "blob-start"; descriptor: Descriptor }
  | { type: "blob-progress"; descriptor: Descriptor; bytes: number }
  | { type: "blob-done"; descriptor: Descriptor; outcome: BlobOutcome }
  | { type: "manifest"; descriptor: Descriptor; tag?: string };

export interface CopyOptions {
  /** Keep only these platforms of an index (all when empty). */
  platforms?: readonly Platform[];
  /** Blobs in flight at once. Default 4. */
  concurrency?: number;
  onProgress?: (event: CopyEvent) => void;
}

export interface CopyResult {
  source: string;
  destination: string;
  /** What the source reference pointed at. */
  sourceDescriptor: Descriptor;
  /** What was written at the destination; its digest differs from the source's when platforms were dropped. */
  descriptor: Descriptor;
  digestChanged: boolean;
  notes: string[];
  manifests: Descriptor[];
  blobs: { descriptor: Descriptor; outcome: BlobOutcome }[];
  bytesCopied: number;
  bytesSkipped: number;
  bytesMounted: number;
}

/** A manifest to write with the ones under it, children first. */
interface ManifestNode {
  descriptor: Descriptor;
  bytes: Uint8Array;
  children: ManifestNode[];
  blobs: Descriptor[];
}

/** Runs `work` over `items` with at most `limit` running at once; the first failure stops new work. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected) throw (rejected).reason;
}

/** Counts bytes as they stream by, for progress events (left out when nobody listens). */
class ByteCounter extends Transform {
  bytes = 0;
  private readonly report: (bytes: number) => void;
  private lastReport = 0;
  constructor(report: (bytes: number) => void) {
    super();
    this.report = report;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    // A progress event per 8 MiB keeps the CLI informed without flooding it.
    if (this.bytes - this.lastReport >= 8 * 1024 * 1024) {
      this.lastReport = this.bytes;
      this.report(this.bytes);
    }
    callback(null, chunk);
  }
}

async function readNode(store: ImageStore, descriptor: Descriptor, bytes: Uint8Array, limit: number): Promise<ManifestNode> {
  const input = `${store.name}@${descriptor.digest}`;
  const parsed = parseManifest(bytes, input, descriptor.mediaType);
  const node: ManifestNode = { descriptor: { mediaType: parsed.mediaType, digest: descriptor.digest, size: descriptor.size }, bytes, children: [], blobs: [] };
  if (parsed.kind === "image") {
    node.blobs = [parsed.manifest.config, ...parsed.manifest.layers];
    return node;
  }
  node.children = new Array<ManifestNode>(parsed.index.manifests.length);
  await inParallel([...parsed.index.manifests.entries()], limit, async ([i, entry]) => {
    if (!isImageMediaType(entry.mediaType) && !isIndexMediaType(entry.mediaType)) {
      throw new ImagewrightError("invalid-input", `index entry ${i} has mediaType ${entry.mediaType}, not a manifest or index`, { input, place: `$.manifests[${i}].mediaType` });
    }
    const child = await store.getManifest(entry.digest);
    if (child.bytes.byteLength !== entry.size) {
      throw new ImagewrightError("invalid-input", `index entry ${i} says ${entry.size} bytes, the manifest has ${child.bytes.byteLength}`, { input, place: `$.manifests[${i}].size` });
    }
    node.children[i] = await readNode(store, { ...entry, mediaType: entry.mediaType }, child.bytes, limit);
  });
  return node;
}

/** `store:tag`, `store@digest`, or the store alone for an unnamed image. */
export function referenceName(store: ImageStore, reference: string): string {
  return reference === "" ? store.name : isDigest(reference) ? `${store.name}@${reference}` : `${store.name}:${reference}`;
}

function* walk(node: ManifestNode): Generator<ManifestNode> {
  for (const child of node.children) yield* walk(child);
  yield node;
}

/**
 * Copies `sourceReference` in `source` to `destinationReference` in
 * `destination` ("" for a layout's or archive's unnamed image, a digest to
 * write without a tag). See docs/oci.md for platform selection and attestations.
 * On failure the destination drops what it batched (a docker archive's staging).
 */
export async function copy(source: ImageStore, sourceReference: string, destination: ImageStore, destinationReference: string, options: CopyOptions = {}): Promise<CopyResult> {
  try {
    return await transfer(source, sourceReference, destination, destinationReference, options);
  } catch (error) {
    await destination.abort?.();
    throw error;
  }
}

async function transfer(source: ImageStore, sourceReference: string, destination: ImageStore, destinationReference: string, options: CopyOptions): Promise<CopyResult> {
  const limit = Math.max(1, options.concurrency ?? 4);
  const emit = options.onProgress ?? (() => undefined);
  const notes: string[] = [];
  const note = (message: string): void => {
    notes.push(message);
    emit({ type: "note", message });
  };
  const sourceName = referenceName(source, sourceReference);

  const top = await source.getManifest(sourceReference);
  const sourceDescriptor = top.descriptor;
  let root = await readNode(source, top.descriptor, top.bytes, limit);

  const parsedTop = parseManifest(top.bytes, sourceName, top.descriptor.mediaType);
  const platforms = options.platforms ?? [];
  if (parsedTop.kind === "index") {
    const selection = selectPlatforms(parsedTop.index, top.bytes, platforms, sourceName);
    const keptDigests = new Set(selection.kept.map((d) => d.digest));
    if (destination.accepts !== undefined && !destination.accepts.includes(parsedTop.mediaType)) {
      // A location that holds only images (a docker archive) gets the one selected image itself.
      const entries = selection.kept.filter((e) => isImageMediaType(e.mediaType) && !isAttestation(e));
      if (entries.length !== 1) {
        throw new ImagewrightError("usage", `${destination.name} holds single-platform images and ${sourceName} has ${entries.length} platforms`, {
          input: sourceName,
          hint: `choose one with --platform (${entries.map(describeEntry).join(", ")})`,
        });
      }
      root = root.children.find((c) => c.descriptor.digest === entries[0]!.digest)!;
      note(`copied the ${describeEntry(entries[0]!)} image alone: ${destination.name} holds images, not indexes${selection.kept.length > 1 ? " (its attestation is not kept)" : ""}`);
    } else if (selection.changed) {
      for (const { descriptor, reason } of selection.dropped) note(`dropped ${describeEntry(descriptor)} (${reason})`);
      const bytes = selection.bytes;
      root = { descriptor: { mediaType: parsedTop.mediaType, digest: digestOf(bytes), size: bytes.byteLength }, bytes, children: root.children.filter((c) => keptDigests.has(c.descriptor.digest)), blobs: [] };
      note(`wrote a new index with ${selection.kept.length} of ${parsedTop.index.manifests.length} entries: its digest ${root.descriptor.digest} differs from the source's ${sourceDescriptor.digest}`);
    }
  } else if (platforms.length > 0) {
    note(`--platform ignored: ${sourceName} is a single image, not an index`);
  }

  if (isDigest(destinationReference) && destinationReference !== root.descriptor.digest) {
    throw new ImagewrightError("conflict", `the copy would write ${root.descriptor.digest}, not the ${destinationReference} the destination reference names`, {
      input: referenceName(destination, destinationReference),
      hint: "name the destination by tag, or by the digest the copy produces",
    });
  }

  // Blobs, deduplicated across the images of an index.
  const blobs = new Map<string, Descriptor>();
  const manifests = [...walk(root)];
  for (const node of manifests) for (const blob of node.blobs) if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
  const plannedBytes = [...blobs.values()].reduce((sum, b) => sum + b.size, 0);
  emit({ type: "plan", manifests: manifests.length, blobs: blobs.size, bytes: plannedBytes });

  const outcomes: CopyResult["blobs"] = [];
  let bytesCopied = 0;
  let bytesSkipped = 0;
  let bytesMounted = 0;
  await inParallel([...blobs.values()], limit, async (blob) => {
    emit({ type: "blob-start", descriptor: blob });
    let outcome: BlobOutcome;
    if (await destination.hasBlob(blob)) {
      outcome = "skipped";
      bytesSkipped += blob.size;
    } else if (destination.mountBlob !== undefined && (await destination.mountBlob(blob, source))) {
      outcome = "mounted";
      bytesMounted += blob.size;
    } else {
      const content = await source.getBlob(blob);
      let stream: Readable = content;
      if (options.onProgress !== undefined) {
        const counter = new ByteCounter((bytes) => emit({ type: "blob-progress", descriptor: blob, bytes }));
        content.on("error", (error) => counter.destroy(error));
        stream = content.pipe(counter);
      }
      try {
        // ImageStore.getBlob streams are verified: the destination need not hash them again.
        await destination.putBlob(blob, stream, { verified: true });
      } catch (error) {
        // A destination that gave up must not leave the source's connection or file open.
        content.destroy();
        throw error;
      }
      outcome = "copied";
      bytesCopied += blob.size;
    }
    outcomes.push({ descriptor: blob, outcome });
    emit({ type: "blob-done", descriptor: blob, outcome });
  });

  // Children before their index; the top-level manifest and its tag last.
  const written: Descriptor[] = [];
  for (const node of manifests.slice(0, -1)) {
    written.push(await destination.putManifest(node.bytes, node.descriptor.mediaType));
    emit({ type: "manifest", descriptor: node.descriptor });
  }
  const tag = isDigest(destinationReference) ? undefined : destinationReference;
  const descriptor = await destination.putManifest(root.bytes, root.descriptor.mediaType, tag);
  if (descriptor.digest !== root.descriptor.digest) {
    throw new ImagewrightError("failed", `${destination.name} stored the manifest as ${descriptor.digest}, expected ${root.descriptor.digest}`, { input: destination.name });
  }
  written.push(descriptor);
  emit({ type: "manifest", descriptor, ...(tag === undefined || tag === "" ? {} : { tag }) });
  await destination.commit?.();
  return {
    source: sourceName,
    destination: referenceName(destination, destinationReference),
    sourceDescriptor,
    descriptor: root.descriptor,
    digestChanged: root.descriptor.digest !== sourceDescriptor.digest,
    notes,
    manifests: written,
    blobs: outcomes,
    bytesCopied,
    bytesSkipped,
    bytesMounted,
  };
}
