// Layer compression: one standard gzip member made of fixed-size blocks that are
// deflated in parallel on libuv's thread pool (the pigz idea), so a layer uses
// every core; the bytes depend only on the input, the level and zlib itself.

import { Transform, type TransformCallback } from "node:stream";
import { promisify } from "node:util";
import zlib from "node:zlib";

const deflateRaw = promisify(zlib.deflateRaw);

/** Uncompressed bytes per block: large enough that flush markers cost nothing, small enough to overlap. */
const BLOCK_SIZE = 1 << 20;
/** Blocks in flight; libuv's default thread pool has four threads. */
const IN_FLIGHT = 4;
/** Byte entropy (bits per byte) above which a block is stored rather than deflated. */
const STORE_ABOVE_ENTROPY = 7.9;
const ENTROPY_SAMPLE = 16 * 1024;

/**
 * A gzip header with no file name, mtime 0 and OS "unknown" (255), so the
 * same tar gives the same bytes on every platform.
 */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * Already-compressed content (jars, tarballs, native binaries with packed
 * sections) barely shrinks and costs zlib the most time: such blocks are
 * written as stored deflate blocks instead. Decided from the block's own bytes,
 * so the choice is reproducible.
 */
function looksIncompressible(block: Buffer): boolean {
  const sample = block.subarray(0, ENTROPY_SAMPLE);
  if (sample.length < 1024) return false;
  const counts = new Uint32Array(256);
  for (const byte of sample) counts[byte] = (counts[byte] ?? 0) + 1;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / sample.length;
    entropy -= p * Math.log2(p);
  }
  return entropy > STORE_ABOVE_ENTROPY;
}

export class ParallelGzip extends Transform {
  readonly #level: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The newest full block is held back until we know whether it is the last one. */
  #held: Buffer | undefined;
  #inFlight: Promise<Buffer>[] = [];
  #crc = 0;
  #size = 0;
  #headerWritten = false;

  constructor(level: number) {
    super({ highWaterMark: BLOCK_SIZE });
    this.#level = level;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#accept(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#finish().then(() => callback(), callback);
  }

  async #accept(chunk: Buffer): Promise<void> {
    this.#crc = zlib.crc32(chunk, this.#crc);
    this.#size += chunk.length;
    let rest = chunk;
    while (this.#pendingBytes + rest.length >= BLOCK_SIZE) {
      const take = BLOCK_SIZE - this.#pendingBytes;
      this.#pending.push(rest.subarray(0, take));
      rest = rest.subarray(take);
      const block = Buffer.concat(this.#pending, BLOCK_SIZE);
      this.#pending = [];
      this.#pendingBytes = 0;
      await this.#hold(block);
    }
    if (rest.length > 0) {
      // Kept by reference: file streams and tar-stream hand over fresh buffers and never reuse them.
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
  }

  async #hold(block: Buffer): Promise<void> {
    const previous = this.#held;
    this.#held = block;
    if (previous !== undefined) await this.#start(previous, false);
  }

  async #start(block: Buffer, last: boolean): Promise<void> {
    const options: zlib.ZlibOptions = {
      level: looksIncompressible(block) ? 0 : this.#level,
      // A sync flush ends each block on a byte boundary, so the blocks join into one stream.
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      // One output buffer per block instead of zlib's default 16 KiB pieces: far fewer callbacks and allocations.
      chunkSize: BLOCK_SIZE + 64 * 1024,
    };
    const deflated = deflateRaw(block, options);
    // Awaited in order later; until then a failure must not count as unhandled.
    deflated.catch(() => undefined);
    this.#inFlight.push(deflated);
    if (this.#inFlight.length >= IN_FLIGHT) await this.#emitOldest();
  }

  async #emitOldest(): Promise<void> {
    const oldest = this.#inFlight.shift();
    if (oldest === undefined) return;
    const deflated = await oldest;
    if (!this.#headerWritten) {
      this.push(GZIP_HEADER);
      this.#headerWritten = true;
    }
    this.push(deflated);
  }

  async #finish(): Promise<void> {
    const tail = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    if (this.#held !== undefined) {
      if (tail.length > 0) {
        await this.#start(this.#held, false);
        await this.#start(tail, true);
      } else {
        await this.#start(this.#held, true);
      }
    } else {
      await this.#start(tail, true);
    }
    this.#held = undefined;
    while (this.#inFlight.length > 0) await this.#emitOldest();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#size % 2 ** 32, 4);
    this.push(trailer);
  }
}
