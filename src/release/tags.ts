// Which images make up a product's release and what their candidate and release
// tags are under the catalog's tag scheme, both ways.

import type { Catalog, CatalogImage, CatalogVersion } from "../catalog/index.ts";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { floatingTags, formatTag, readTag } from "../versioning/index.ts";
import type { ImageCoordinates, TagScheme } from "../versioning/index.ts";
import type { ImageStore } from "../oci/index.ts";

/** A scheme without RC templates (ADR018's) marks a candidate in the image version's SemVer pre-release. */
const PRERELEASE_RC = /^(.*)-rc(\d+)$/;

/**
 * The product images of `product`: the image named so and its flavours named
 * `<product>-<flavour>` (`kafka`, `kafka-native`), optionally only those with
 * `productVersion` and only those in `only`.
 */
export function productImages(catalog: Catalog, product: string, productVersion?: string, only: readonly string[] = []): CatalogImage[] {
  const images = catalog.images.filter((image) => image.kind === "product" && (image.name === product || image.name.startsWith(`${product}-`)));
  if (images.length === 0) {
    throw new ImagewrightError("not-found", `the catalog has no product image "${product}"`, {
      input: `product ${product}`,
      hint: `product images: ${catalog.images.filter((i) => i.kind === "product").map((i) => i.name).join(", ")}`,
    });
  }
  for (const name of only) {
    if (!images.some((image) => image.name === name)) {
      throw new ImagewrightError("not-found", `"${name}" is not an image of product ${product}`, { input: `--image ${name}`, hint: `images of ${product}: ${images.map((i) => i.name).join(", ")}` });
    }
  }
  const chosen = images.filter((image) => only.length === 0 || only.includes(image.name));
  if (productVersion === undefined) return chosen;
  const withVersion = chosen.filter((image) => image.byProductVersion.has(productVersion));
  if (withVersion.length === 0) {
    throw new ImagewrightError("not-found", `no image of ${product} has product version ${productVersion} in the catalog`, {
      input: `${product} ${productVersion}`,
      hint: chosen.map((image) => `${image.name}: ${image.versions.map((v) => v.productVersion).join(", ")}`).join("; "),
    });
  }
  return withVersion;
}

/** The registry tag of release candidate `rc` of a catalog version. */
export function candidateTag(scheme: TagScheme, version: CatalogVersion, rc: number): string {
  if (scheme.rcRegistryTag !== undefined) {
    return formatTag(scheme, { product: version.image, productVersion: version.productVersion, imageVersion: version.imageVersion, rc });
  }
  return formatTag(scheme, { product: version.image, productVersion: version.productVersion, imageVersion: `${version.imageVersion}-rc${rc}` });
}

export interface CandidateReading {
  tag: string;
  rc: number;
  /** The release the candidate stands for: its coordinates without the rc. */
  release: ImageCoordinates;
}

/** Reads a candidate tag, or undefined when `tag` is not one (a release, a floating tag, something else). */
export function readCandidateTag(scheme: TagScheme, tag: string): CandidateReading | undefined {
  let reading;
  try {
    reading = readTag(scheme, tag);
  } catch (error) {
    if (isImagewrightError(error)) return undefined;
    throw error;
  }
  const c = reading.coordinates;
  if (reading.kind === "rc" && c.rc !== undefined) {
    const release: ImageCoordinates = { productVersion: c.productVersion };
    if (c.product !== undefined) release.product = c.product;
    if (c.imageVersion !== undefined) release.imageVersion = c.imageVersion;
    return { tag, rc: c.rc, release };
  }
  const match = reading.kind === "release" && c.imageVersion !== undefined ? PRERELEASE_RC.exec(c.imageVersion) : null;
  if (match === null) return undefined;
  const release: ImageCoordinates = { productVersion: c.productVersion, imageVersion: match[1]! };
  if (c.product !== undefined) release.product = c.product;
  return { tag, rc: Number(match[2]), release };
}

/** Reads a tag the user gave as an RC tag, refusing anything else with the scheme's form in the hint. */
export function requireCandidateTag(scheme: TagScheme, tag: string): CandidateReading {
  const reading = readCandidateTag(scheme, tag);
  if (reading === undefined) {
    throw new ImagewrightError("invalid-input", `"${tag}" is not a release-candidate tag of tag scheme ${scheme.name}`, {
      input: `rc tag ${tag}`,
      hint:
        scheme.rcRegistryTag !== undefined
          ? `candidate tags look like ${scheme.rcRegistryTag}`
          : `this scheme has no RC template: candidates are ${scheme.registryTag} with image version <x.y.z>-rc<N>`,
    });
  }
  return reading;
}

/** The release tag and floating tags a candidate becomes when promoted. */
export function releaseTags(scheme: TagScheme, release: ImageCoordinates): { tag: string; floating: string[] } {
  return { tag: formatTag(scheme, release), floating: scheme.floatingTags.length > 0 ? floatingTags(scheme, release) : [] };
}

/** A repository's tags; a repository that does not exist yet simply has none. */
export async function tagsOf(store: ImageStore): Promise<string[]> {
  try {
    return await store.listTags();
  } catch (error) {
    if (isImagewrightError(error) && error.kind === "not-found") return [];
    throw error;
  }
}
