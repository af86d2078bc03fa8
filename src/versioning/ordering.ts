// Ordering of the tags found in a repository: sorted by (product, product version, image
// version, rc) with release candidates before their release, the newest image version of a
// product version, and floating tags resolved to the concrete tag they stand for.

import semver, { SemVer } from "semver";
import { ImagewrightError } from "../errors/index.ts";
import { compareParsedProductVersions, parseProductVersion, type ProductVersion } from "./product-version.ts";
import { parseImageVersion } from "./semantic-version.ts";
import { readTag, type ImageCoordinates, type TagReading, type TagScheme } from "./scheme.ts";

export interface IgnoredTag {
  readonly tag: string;
  /** Why it was left out: the parser's message. */
  readonly reason: string;
}

export interface OrderedTags {
  /** Releases and release candidates, oldest first. */
  readonly concrete: readonly TagReading[];
  readonly floating: readonly TagReading[];
  /** Tags that do not fit the scheme (or fit it ambiguously), kept apart instead of guessed at. */
  readonly ignored: readonly IgnoredTag[];
}

function compareOptional<T>(a: T | undefined, b: T | undefined, compare: (x: T, y: T) => number): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return compare(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An image's coordinates with its versions parsed once, so sorting many tags does not re-parse them. */
interface SortKey {
  readonly product: string | undefined;
  readonly productVersion: ProductVersion;
  readonly imageVersion: SemVer | undefined;
  readonly rc: number | undefined;
}

function sortKey(c: ImageCoordinates): SortKey {
  return {
    product: c.product,
    productVersion: parseProductVersion(c.productVersion),
    imageVersion: c.imageVersion === undefined ? undefined : new SemVer(parseImageVersion(c.imageVersion)),
    rc: c.rc,
  };
}

function compareKeys(a: SortKey, b: SortKey): number {
  return (
    compareOptional(a.product, b.product, compareText) ||
    compareParsedProductVersions(a.productVersion, b.productVersion) ||
    compareOptional(a.imageVersion, b.imageVersion, (x, y) => x.compare(y)) ||
    // No rc is the release itself, which sorts after all of its candidates.
    (a.rc === b.rc ? 0 : a.rc === undefined ? 1 : b.rc === undefined ? -1 : a.rc - b.rc)
  );
}

/** Orders two concrete images: product, product version, image version, then rc (a release after its candidates). */
export function compareImageCoordinates(a: ImageCoordinates, b: ImageCoordinates): number {
  return compareKeys(sortKey(a), sortKey(b));
}

/** Reads every tag with the scheme and sorts the concrete ones; floating and unreadable tags are kept apart. */
export function orderTags(scheme: TagScheme, tags: readonly string[], options: { products?: readonly string[] } = {}): OrderedTags {
  const concrete: Array<{ reading: TagReading; key: SortKey }> = [];
  const floating: TagReading[] = [];
  const ignored: IgnoredTag[] = [];
  for (const tag of tags) {
    try {
      const reading = readTag(scheme, tag, options);
      if (reading.kind === "floating") floating.push(reading);
      else concrete.push({ reading, key: sortKey(reading.coordinates) });
    } catch (error) {
      if (!(error instanceof ImagewrightError)) throw error;
      ignored.push({ tag, reason: error.message });
    }
  }
  concrete.sort((a, b) => compareKeys(a.key, b.key) || compareText(a.reading.tag, b.reading.tag));
  floating.sort((a, b) => compareText(a.tag, b.tag));
  return { concrete: concrete.map((entry) => entry.reading), floating, ignored };
}

/**
 * The newest released image of one product version among `tags` (release candidates and
 * pre-release image versions count only with `includePrereleases`). Unreadable tags are skipped;
 * use orderTags to see them.
 */
export function newestImageVersion(
  scheme: TagScheme,
  tags: readonly string[],
  productVersion: string,
  options: { product?: string; includePrereleases?: boolean } = {},
): { tag: string; coordinates: ImageCoordinates } | undefined {
  parseProductVersion(productVersion);
  const candidates = orderTags(scheme, tags).concrete.filter((reading) => {
    const c = reading.coordinates;
    if (c.productVersion !== productVersion) return false;
    if (options.product !== undefined && c.product !== undefined && c.product !== options.product) return false;
    if (options.includePrereleases === true) return true;
    return c.rc === undefined && (c.imageVersion === undefined || semver.prerelease(c.imageVersion) === null);
  });
  const newest = candidates.at(-1);
  return newest === undefined ? undefined : { tag: newest.tag, coordinates: newest.coordinates };
}

/**
 * The concrete tag a floating tag stands for: the newest released image whose product version and
 * pinned image version numbers match (`2.8.0-stackable0` → newest `2.8.0-stackable0.x.y`).
 */
export function resolveFloatingTag(scheme: TagScheme, floatingTag: string, tags: readonly string[]): { tag: string; coordinates: ImageCoordinates } | undefined {
  const reading = readTag(scheme, floatingTag);
  if (reading.kind !== "floating") {
    throw new ImagewrightError("invalid-input", `tag ${JSON.stringify(floatingTag)} is a ${reading.kind} tag, not a floating one`, {
      input: `tag ${JSON.stringify(floatingTag)}`,
      hint: "only floating tags (such as 2.8.0-stackable0) stand for another tag",
    });
  }
  const pinned = reading.floating ?? {};
  const matches = orderTags(scheme, tags).concrete.filter((candidate) => {
    const c = candidate.coordinates;
    if (c.rc !== undefined || c.imageVersion === undefined || semver.prerelease(c.imageVersion) !== null) return false;
    if (c.productVersion !== reading.coordinates.productVersion) return false;
    if (reading.coordinates.product !== undefined && c.product !== reading.coordinates.product) return false;
    if (pinned.major !== undefined && semver.major(c.imageVersion) !== pinned.major) return false;
    if (pinned.minor !== undefined && semver.minor(c.imageVersion) !== pinned.minor) return false;
    return true;
  });
  const newest = matches.at(-1);
  return newest === undefined ? undefined : { tag: newest.tag, coordinates: newest.coordinates };
}
