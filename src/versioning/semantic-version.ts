// Image versions and operator versions: both SemVer, read strictly with the `semver`
// package. Image versions are only comparable within one product version.

import semver from "semver";
import { ImagewrightError } from "../errors/index.ts";

export type VersionPart = "major" | "minor" | "patch";

/**
 * True for strict SemVer 2.0.0 without build metadata. Build metadata is refused because
 * `+` is not allowed in an OCI tag, and SemVer ignores it for ordering anyway.
 */
export function isImageVersion(text: string): boolean {
  return isStrictSemVer(text) && !text.includes("+");
}

/** SemVer 2.0.0's own regular expression (semver.org), anchored: exact text, no "v", no spaces. */
const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function isStrictSemVer(text: string): boolean {
  // The pattern first: tag parsing tries many candidate substrings, and most fail it cheaply.
  // semver.parse then refuses what the pattern cannot see (numbers beyond Number.MAX_SAFE_INTEGER).
  return text.length <= 128 && SEMVER_PATTERN.test(text) && semver.parse(text) !== null;
}

function semVerProblem(what: string, text: string, allowBuild: boolean): ImagewrightError {
  const plusAt = text.indexOf("+");
  const hint = `an ${what} is SemVer: MAJOR.MINOR.PATCH with numbers without leading zeros, e.g. 0.1.0, optionally -prerelease`;
  if (!allowBuild && plusAt >= 0 && isStrictSemVer(text)) {
    return new ImagewrightError("invalid-input", `${what} ${JSON.stringify(text)} has build metadata, which an OCI tag cannot carry`, {
      input: `${what} ${JSON.stringify(text)}`,
      place: `character ${plusAt + 1}`,
      hint,
    });
  }
  return new ImagewrightError("invalid-input", `${what} ${JSON.stringify(text)} is not SemVer (MAJOR.MINOR.PATCH)`, {
    input: `${what} ${JSON.stringify(text)}`,
    place: `character ${semVerBadIndex(text) + 1}`,
    hint,
  });
}

/** The first character where `text` stops looking like MAJOR.MINOR.PATCH[-pre][+build]. */
function semVerBadIndex(text: string): number {
  const core = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)([-+].*)?)?)?/.exec(text);
  if (core === null) return 0;
  const matched = core[0];
  if (core[6] !== undefined) return matched.length - core[6].length + 1;
  return Math.min(matched.length, text.length === 0 ? 0 : text.length - 1);
}

/** Checks an image version and returns it unchanged; throws invalid-input saying where it breaks. */
export function parseImageVersion(text: string): string {
  if (isImageVersion(text)) return text;
  throw semVerProblem("image version", text, false);
}

/** Checks an operator version (full SemVer, build metadata allowed) and returns it unchanged. */
export function parseOperatorVersion(text: string): string {
  if (isStrictSemVer(text)) return text;
  throw semVerProblem("operator version", text, true);
}

/** SemVer precedence. Only meaningful for two image versions of the same product version. */
export function compareImageVersions(a: string, b: string): number {
  return semver.compare(parseImageVersion(a), parseImageVersion(b));
}

/** SemVer precedence of operator versions (build metadata ignored, as SemVer says). */
export function compareOperatorVersions(a: string, b: string): number {
  return semver.compare(parseOperatorVersion(a), parseOperatorVersion(b));
}

/**
 * The next image version: a CVE fix is a patch (`0.2.0` → `0.2.1`). Bumping a pre-release
 * releases it at the same level (`0.3.0-rc.1` patch → `0.3.0`), which is what SemVer's `inc` does.
 */
export function bumpImageVersion(version: string, part: VersionPart): string {
  const next = semver.inc(parseImageVersion(version), part);
  if (next === null) {
    throw new ImagewrightError("usage", `cannot bump ${part} of image version ${JSON.stringify(version)}`, {
      input: `version part ${JSON.stringify(part)}`,
      hint: "part is one of major, minor, patch",
    });
  }
  return next;
}

export function imageVersionMajor(version: string): number {
  return semver.major(parseImageVersion(version));
}

export function imageVersionMinor(version: string): number {
  return semver.minor(parseImageVersion(version));
}

export function isImageVersionPrerelease(version: string): boolean {
  return semver.prerelease(parseImageVersion(version)) !== null;
}
