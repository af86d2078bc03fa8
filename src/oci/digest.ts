// Digest helpers for OCI locations. Parsing, hashing and the verifying stream
// live once, in the registry client (../registry/); this adds the
// whole-buffer check that manifests read from disk need.

import { ImagewrightError } from "../errors/index.ts";
import { digestOf, parseDigest } from "../registry/index.ts";

export { DigestVerifier, digestOf, isDigest, parseDigest } from "../registry/index.ts";

export function sha256(bytes: Uint8Array | string): string {
  return digestOf(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
}

/** Throws invalid-input when bytes do not hash to the digest (or have the wrong size). */
export function verifyBytes(bytes: Uint8Array, expected: { digest: string; size?: number }, input: string): void {
  if (expected.size !== undefined && bytes.byteLength !== expected.size) {
    throw new ImagewrightError("invalid-input", `content is ${bytes.byteLength} bytes, its descriptor says ${expected.size}`, { input, place: `byte ${Math.min(bytes.byteLength, expected.size)}` });
  }
  const actual = digestOf(bytes, parseDigest(expected.digest, input).algorithm);
  if (actual !== expected.digest) {
    throw new ImagewrightError("invalid-input", `content does not match its digest: expected ${expected.digest}, got ${actual}`, { input });
  }
}
