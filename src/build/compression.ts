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
  /** The block being filled; `#filled` bytes of it are data. */
  #current: Buffer | undefined;
  #filled = 0;
  /** The newest full block is held back until we know whether it is the last one. */
  #held: Buffer | undefined;
  #inFlight: { input: Buffer; deflated: Promise<Buffer> }[] = [];
  /**
   * Block buffers whose deflate has finished, for reuse: every byte of a layer passes
   * through a block, and fresh 1 MiB buffers for each would make V8 collect the whole
   * heap over and over as the external memory grows.
   */
  #free: Buffer[] = [];
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
    let offset = 0;
    while (offset < chunk.length) {
      this.#current ??= this.#free.pop() ?? Buffer.allocUnsafe(BLOCK_SIZE);
      const copied = chunk.copy(this.#current, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === BLOCK_SIZE) {
        const block = this.#current;
        this.#current = undefined;
        this.#filled = 0;
        await this.#hold(block);
      }
    }
  }

  async #hold(block: Buffer): Promise<void> {
    const previous = this.#held;
    this.#held = block;
    if (previous !== undefined) await this.#start(previous, previous.length, false);
  }

  async #start(input: Buffer, length: number, last: boolean): Promise<void> {
    const block = input.subarray(0, length);
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
    this.#inFlight.push({ input, deflated });
    if (this.#inFlight.length >= IN_FLIGHT) await this.#emitOldest();
  }

  async #emitOldest(): Promise<void> {
    const oldest = this.#inFlight.shift();
    if (oldest === undefined) return;
    const deflated = await oldest.deflated;
    // zlib is done reading the input: the buffer can take the next block.
    this.#free.push(oldest.input);
    if (!this.#headerWritten) {
      this.push(GZIP_HEADER);
      this.#headerWritten = true;
    }
    this.push(deflated);
  }

  async #finish(): Promise<void> {
    const tail = this.#current;
    const tailLength = this.#filled;
    this.#current = undefined;
    this.#filled = 0;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined && tail !== undefined && tailLength > 0) {
      await this.#start(held, held.length, false);
      await this.#start(tail, tailLength, true);
    } else if (held !== undefined) {
      await this.#start(held, held.length, true);
    } else {
      // Also an empty stream: one final empty deflate block makes it valid gzip.
      await this.#start(tail ?? Buffer.alloc(0), tailLength, true);
    }
    while (this.#inFlight.length > 0) await this.#emitOldest();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#size % 2 ** 32, 4);
    this.push(trailer);
  }
}
