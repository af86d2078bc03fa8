// Product versions: the version of the packaged thing (Kafka `3.7.0`, Trino `403`,
// Scala-style `2.13`), which is not always SemVer, so it has its own grammar and order.

import { ImagewrightError } from "../errors/index.ts";

/**
 * Grammar (docs/versioning.md):
 *   product-version = first *( "." segment )
 *   first           = DIGIT *ALNUM
 *   segment         = 1*ALNUM
 * No `-`, `_` or `+`: tag templates use those as separators, and keeping them out
 * of the version is what lets `2.8.0-stackable0.1.0` split in exactly one place.
 */
export const PRODUCT_VERSION_PATTERN = /^[0-9][0-9A-Za-z]*(?:\.[0-9A-Za-z]+)*$/;

/** Long enough for any real version, and a product version must fit inside a 128-character tag. */
export const PRODUCT_VERSION_MAX_LENGTH = 128;

export interface ProductVersion {
  /** Exactly as written; a product version is never re-rendered, so `3.07` stays `3.07`. */
  readonly text: string;
  readonly segments: readonly string[];
}

export function isProductVersion(text: string): boolean {
  return text.length <= PRODUCT_VERSION_MAX_LENGTH && PRODUCT_VERSION_PATTERN.test(text);
}

/** Parses a product version; throws invalid-input naming the first character that breaks the grammar. */
export function parseProductVersion(text: string): ProductVersion {
  if (isProductVersion(text)) return { text, segments: text.split(".") };
  const problem = productVersionProblem(text);
  throw new ImagewrightError("invalid-input", problem.message, {
    input: `product version ${JSON.stringify(text)}`,
    place: `character ${problem.index + 1}`,
    hint: "a product version starts with a digit and has dot-separated segments of letters and digits, e.g. 3.7.0, 403, 2.13",
  });
}

/** Why a string is not a product version, and at which 0-based character. */
function productVersionProblem(text: string): { message: string; index: number } {
  const quoted = JSON.stringify(text);
  if (text.length === 0) return { message: "product version is empty", index: 0 };
  if (text.length > PRODUCT_VERSION_MAX_LENGTH) {
    return {
      message: `product version is ${text.length} characters long; at most ${PRODUCT_VERSION_MAX_LENGTH} are allowed`,
      index: PRODUCT_VERSION_MAX_LENGTH,
    };
  }
  if (!/[0-9]/.test(text[0] ?? "")) return { message: `product version ${quoted} must start with a digit`, index: 0 };
  for (let i = 1; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (ch === ".") {
      if (i === text.length - 1) return { message: `product version ${quoted} must not end with "."`, index: i };
      if (text[i + 1] === ".") return { message: `product version ${quoted} has an empty segment at character ${i + 2}`, index: i + 1 };
    } else if (!/[0-9A-Za-z]/.test(ch)) {
      return {
        message: `product version ${quoted} has ${JSON.stringify(ch)} at character ${i + 1}; only letters, digits and "." are allowed`,
        index: i,
      };
    }
  }
  return { message: `product version ${quoted} is not valid`, index: 0 };
}

/** A segment split into runs of digits and runs of letters: `RC10` → ["RC", "10"]. */
function runs(segment: string): string[] {
  return segment.match(/[0-9]+|[A-Za-z]+/g) ?? [];
}

/** Compares digit strings as numbers of any length, without overflow: "10" > "9", "007" = "7". */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=.)/, "");
  const y = b.replace(/^0+(?=.)/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function isDigits(run: string): boolean {
  return /^[0-9]/.test(run);
}

/** Natural order of one segment: digit runs as numbers, letter runs as text, letters before digits. */
function compareSegments(a: string, b: string): number {
  const ra = runs(a);
  const rb = runs(b);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i] ?? "";
    const y = rb[i] ?? "";
    const dx = isDigits(x);
    const dy = isDigits(y);
    let order: number;
    if (dx && dy) order = compareDigits(x, y);
    // `1.0.RC1` < `1.0.0`: a letter run where the other has a number marks a pre-release-like segment.
    else if (dx !== dy) order = dx ? 1 : -1;
    else order = x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return Math.sign(ra.length - rb.length);
}

/**
 * Orders product versions segment by segment, numbers as numbers (`3.10.0` > `3.9.0`).
 * A version that is a prefix of another sorts first (`2.13` < `2.13.0`). Versions that are
 * numerically equal but written differently (`3.07` vs `3.7`) are ordered by their text so
 * that the order is total and 0 means "the same version string".
 */
export function compareProductVersions(a: string, b: string): number {
  return compareParsedProductVersions(parseProductVersion(a), parseProductVersion(b));
}

/** compareProductVersions for versions parsed once, for sorting many. */
export function compareParsedProductVersions(first: ProductVersion, second: ProductVersion): number {
  const [a, b] = [first.text, second.text];
  const x = first.segments;
  const y = second.segments;
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const order = compareSegments(x[i] ?? "", y[i] ?? "");
    if (order !== 0) return order;
  }
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
