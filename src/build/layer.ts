// Reproducible image layers from host files: a directory tree or a single file
// becomes a sorted tar with clamped mtimes and chosen owners, gzipped at a fixed
// level, hashed twice (diffID and digest) in one streaming pass to a spool file.

import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream, type Stats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { ImagewrightError } from "../errors/index.ts";
import { ParallelGzip } from "./compression.ts";
import { MediaTypes, type Descriptor } from "../oci/model.ts";

/** Where one layer's files come from on the host and where they land in the image. */
export interface LayerSource {
  /** A directory (its contents go under `destination`) or a single file. */
  source: string;
  /** Absolute path in the image. For a file, a path ending in `/` means "into this directory". */
  destination: string;
}

/**
 * How host metadata becomes layer metadata.
 * - owner: `{uid,gid}` for every entry (default 0:0), or "keep" for the host's numeric ids.
 * - modes: "keep" the host's permission bits (setuid/setgid/sticky included), or "normalise"
 *   them the way git sees files (0755 when the owner may execute, else 0644; directories
 *   0755), which makes layers independent of the umask of the checkout that made the files.
 */
export interface LayerOptions {
  /** Seconds since the epoch; every mtime is clamped to it (never later). */
  sourceDateEpoch: number;
  owner?: { uid: number; gid: number } | "keep";
  modes?: "keep" | "normalise";
  /** gzip level 1–9; fixed so the same tar always compresses to the same bytes. */
  compressionLevel?: number;
}

export const DEFAULT_COMPRESSION_LEVEL = 1;

/** A finished layer waiting in a spool file: descriptor for the manifest, diffID for the config. */
export interface SpooledLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar, as `rootfs.diff_ids` wants it. */
  diffId: string;
  uncompressedSize: number;
  entries: number;
  file: string;
  open(): Readable;
}

type EntryHeader = Partial<tar.Header> & { name: string };

interface PlannedEntry {
  /** Path inside the archive, without a leading slash. */
  name: string;
  hostPath: string;
  stats: Stats;
  type: "directory" | "file" | "symlink" | "link";
  linkname?: string;
}

/** Builds one layer from `source` into `spoolFile`, streaming; memory does not grow with file sizes. */
export async function buildLayer(source: LayerSource, options: LayerOptions, spoolFile: string): Promise<SpooledLayer> {
  const entries = await planEntries(source);
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new ImagewrightError("usage", `compression level ${level} is not an integer from 1 to 9`, { input: "compression level" });
  }
  const pack = tar.pack();
  const diff = new HashingPassThrough();
  const compressed = new HashingPassThrough();
  const gzip = new ParallelGzip(level);
  const written = pipeline(pack, diff, gzip, compressed, createWriteStream(spoolFile, { mode: 0o600 }));
  // A failing file read tears the pipeline down too, so neither side is left waiting.
  const filled = fillArchive(pack, entries, options).catch((error: unknown) => {
    pack.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  const results = await Promise.allSettled([filled, written]);
  for (const result of results) {
    if (result.status === "rejected") throw asLayerError(result.reason, source);
  }
  return {
    descriptor: {
      mediaType: MediaTypes.ociLayerGzip,
      digest: `sha256:${compressed.hash.digest("hex")}`,
      size: compressed.bytes,
    },
    diffId: `sha256:${diff.hash.digest("hex")}`,
    uncompressedSize: diff.bytes,
    entries: entries.length,
    file: spoolFile,
    // Large reads: the upload assembles chunks of megabytes, and 64 KiB reads cost CPU for nothing.
    open: () => createReadStream(spoolFile, { highWaterMark: 1 << 20 }),
  };
}

function asLayerError(reason: unknown, source: LayerSource): ImagewrightError {
  if (reason instanceof ImagewrightError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  if (/size mismatch/i.test(message)) {
    return new ImagewrightError("failed", `a file under ${source.source} changed size while the layer was written`, {
      input: `layer source ${source.source}`,
      hint: "build layers from files that nothing else writes to at the same time",
      cause: reason,
    });
  }
  return new ImagewrightError("failed", `could not write the layer for ${source.source}: ${message}`, {
    input: `layer source ${source.source}`,
    cause: reason,
  });
}

class HashingPassThrough extends Transform {
  readonly hash: Hash = createHash("sha256");
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Checks the destination and turns it into archive form: no leading slash, no `.`/`..` parts. */
export function archivePath(destination: string, input = "layer destination"): string {
  if (!destination.startsWith("/")) {
    throw new ImagewrightError("invalid-input", `layer destination "${destination}" is not an absolute path in the image`, {
      input,
      place: "character 1",
      hint: "write it as /opt/app or /usr/local/bin/",
    });
  }
  const parts = destination.split("/").filter((part) => part.length > 0);
  const bad = parts.findIndex((part) => part === "." || part === "..");
  if (bad >= 0) {
    throw new ImagewrightError("invalid-input", `layer destination "${destination}" contains "${parts[bad]}"`, {
      input,
      place: `path segment ${bad + 1}`,
    });
  }
  return parts.join("/");
}

async function planEntries(source: LayerSource): Promise<PlannedEntry[]> {
  let rootStats: Stats;
  try {
    // The root is followed when it is a symlink (like `cp -r link/`); everything below is not.
    rootStats = await stat(source.source);
  } catch (cause) {
    throw new ImagewrightError("not-found", `layer source ${source.source} does not exist`, { input: `layer source ${source.source}`, cause });
  }
  const destination = archivePath(source.destination, `layer destination of ${source.source}`);
  const entries: PlannedEntry[] = [];
  const hardlinks = new Map<string, string>();
  if (rootStats.isDirectory()) {
    // The root itself is only an entry when it lands somewhere other than `/`.
    if (destination !== "") entries.push({ name: destination, hostPath: source.source, stats: rootStats, type: "directory" });
    await walk(source.source, destination, entries, hardlinks);
  } else if (rootStats.isFile()) {
    const name = source.destination.endsWith("/") ? path.posix.join(destination, path.basename(source.source)) : destination;
    if (name === "") {
      throw new ImagewrightError("invalid-input", `a file cannot become the image root "/"`, { input: `layer destination of ${source.source}` });
    }
    entries.push({ name, hostPath: source.source, stats: rootStats, type: "file" });
  } else {
    throw new ImagewrightError("invalid-input", `layer source ${source.source} is neither a directory nor a regular file`, {
      input: `layer source ${source.source}`,
    });
  }
  return entries;
}

/** Bytewise order (not UTF-16 order), so the archive order is the same on every machine. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function walk(directory: string, prefix: string, entries: PlannedEntry[], hardlinks: Map<string, string>): Promise<void> {
  const names = (await readdir(directory)).sort(byBytes);
  for (const child of names) {
    const hostPath = path.join(directory, child);
    const name = prefix === "" ? child : `${prefix}/${child}`;
    const stats = await lstat(hostPath);
    if (stats.isDirectory()) {
      entries.push({ name, hostPath, stats, type: "directory" });
      await walk(hostPath, name, entries, hardlinks);
    } else if (stats.isSymbolicLink()) {
      entries.push({ name, hostPath, stats, type: "symlink", linkname: await readlink(hostPath) });
    } else if (stats.isFile()) {
      // Hard links stay hard links: the first path in archive order carries the content.
      const key = `${stats.dev}:${stats.ino}`;
      const first = stats.nlink > 1 ? hardlinks.get(key) : undefined;
      if (first !== undefined) {
        entries.push({ name, hostPath, stats, type: "link", linkname: first });
      } else {
        if (stats.nlink > 1) hardlinks.set(key, name);
        entries.push({ name, hostPath, stats, type: "file" });
      }
    } else {
      throw new ImagewrightError("invalid-input", `${hostPath} is a socket, FIFO or device; layers hold files, directories and links only`, {
        input: `layer source file ${hostPath}`,
      });
    }
  }
}

function modeOf(entry: PlannedEntry, modes: "keep" | "normalise"): number {
  if (entry.type === "symlink") return 0o777;
  if (modes === "keep") return entry.stats.mode & 0o7777;
  if (entry.type === "directory") return 0o755;
  return (entry.stats.mode & 0o100) !== 0 ? 0o755 : 0o644;
}

async function fillArchive(pack: tar.Pack, entries: readonly PlannedEntry[], options: LayerOptions): Promise<void> {
  const epoch = options.sourceDateEpoch;
  const modes = options.modes ?? "keep";
  const owner = options.owner ?? { uid: 0, gid: 0 };
  try {
    for (const entry of entries) {
      const seconds = Math.min(Math.floor(entry.stats.mtimeMs / 1000), epoch);
      const header: EntryHeader = {
        name: entry.type === "directory" ? `${entry.name}/` : entry.name,
        type: entry.type,
        // tar-stream replaces mode 0 with its default; 0o7777 masks keep type bits out.
        mode: modeOf(entry, modes),
        uid: owner === "keep" ? entry.stats.uid : owner.uid,
        gid: owner === "keep" ? entry.stats.gid : owner.gid,
        // Host user and group names would differ between machines: numeric ids only.
        uname: "",
        gname: "",
        mtime: new Date(Math.max(0, seconds) * 1000),
        size: entry.type === "file" ? entry.stats.size : 0,
        ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      };
      if (entry.type === "file") {
        await writeFileEntry(pack, header, entry.hostPath);
      } else {
        await new Promise<void>((resolve, reject) => {
          pack.entry(header, (error) => (error ? reject(error) : resolve()));
        });
      }
    }
  } finally {
    pack.finalize();
  }
}

function writeFileEntry(pack: tar.Pack, header: EntryHeader, hostPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
    const content = createReadStream(hostPath, { highWaterMark: 1 << 20 });
    content.on("error", (error) => {
      sink.destroy(error);
      reject(error);
    });
    content.pipe(sink);
  });
}
