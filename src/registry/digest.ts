// Content addresses: parsing `algorithm:hex` digests, hashing bytes, and a
// stream that fails at its end when what passed through is not what was promised.

import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ImagewrightError } from "../errors/index.ts";

export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Reads `sha256:<64 hex>` or `sha512:<128 hex>`; anything else is invalid input named as `input`. */
export function parseDigest(value: string, input = `digest "${value}"`): ParsedDigest {
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (colon < 0 || (algorithm !== "sha256" && algorithm !== "sha512")) {
    throw new ImagewrightError("invalid-input", `${input} is not a digest: expected sha256:<hex> or sha512:<hex>`, {
      input,
      place: colon < 0 ? "character 1" : `characters 1-${colon}`,
    });
  }
  const length = HEX_LENGTH[algorithm];
  const bad = hex.search(/[^a-f0-9]/);
  if (bad >= 0 || hex.length !== length) {
    throw new ImagewrightError(
      "invalid-input",
      `${input} is not a digest: ${algorithm} needs ${length} lowercase hex characters, found ${bad >= 0 ? `"${hex[bad]}"` : hex.length}`,
      { input, place: `character ${colon + 2 + (bad >= 0 ? bad : Math.min(hex.length, length))}` },
    );
  }
  return { algorithm, hex };
}

export function isDigest(value: string): boolean {
  return /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(value);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/**
 * Passes bytes through unchanged and, at the end, errors unless exactly `size`
 * bytes with digest `digest` went by. Errors early when more bytes than `size`
 * arrive, so a lying server cannot make us read forever.
 */
export class DigestVerifier extends Transform {
  readonly #digest: string;
  readonly #size: number;
  readonly #what: string;
  readonly #hash;
  #seen = 0;

  constructor(digest: string, size: number, what: string) {
    // Buffers of 1 MiB each way: with the 16 KiB default every 64 KiB socket chunk paused the download.
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    const { algorithm } = parseDigest(digest);
    this.#digest = digest;
    this.#size = size;
    this.#what = what;
    this.#hash = createHash(algorithm);
  }

  /** The digest the content must have. */
  get digest(): string {
    return this.#digest;
  }

  /** The size the content must have. */
  get size(): number {
    return this.#size;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#seen;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#size >= 0 && this.#seen > this.#size) {
      callback(mismatch(this.#what, `more than the ${this.#size} bytes its descriptor says`, this.#size));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#size >= 0 && this.#seen !== this.#size) {
      callback(mismatch(this.#what, `${this.#seen} bytes where its descriptor says ${this.#size}`, this.#seen));
      return;
    }
    const actual = `${this.#digest.slice(0, this.#digest.indexOf(":"))}:${this.#hash.digest("hex")}`;
    if (actual !== this.#digest) {
      callback(mismatch(this.#what, `content with digest ${actual}, not ${this.#digest}`, this.#seen));
      return;
    }
    callback();
  }
}

function mismatch(what: string, detail: string, offset: number): ImagewrightError {
  return new ImagewrightError("invalid-input", `${what} does not match its digest: got ${detail}`, {
    input: what,
    place: `byte ${offset}`,
    hint: "the content was corrupted in transit or by the server; nothing was stored from it",
  });
}
