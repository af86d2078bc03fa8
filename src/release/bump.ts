// Image patch releases: the next image version of a product version, read from the
// tags the release repository really has (not the catalog's belief), and the git tag
// that makes CI build it.

import type { CatalogVersion } from "../catalog/index.ts";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import type { RegistryRepository } from "../registry/index.ts";
import { bumpImageVersion, formatGitTag, formatTag, newestImageVersion } from "../versioning/index.ts";
import type { TagScheme, VersionPart } from "../versioning/index.ts";

export interface BumpResult {
  image: string;
  productVersion: string;
  repository: string;
  part: VersionPart;
  /** The newest released tag the registry has, and its image version. */
  current: { tag: string; imageVersion: string };
  /** What the catalog says; differs from `current` when the catalog is behind or ahead. */
  catalogImageVersion: string;
  next: { imageVersion: string; tag: string; gitTag: string };
  /** True when the registry already has the next tag (someone released it outside this catalog). */
  taken: boolean;
}

export async function bumpImage(repository: RegistryRepository, scheme: TagScheme, version: CatalogVersion, part: VersionPart): Promise<BumpResult> {
  if (!scheme.registryTag.includes("{imageVersion")) {
    throw new ImagewrightError("usage", `tag scheme ${scheme.name} has no image version: a release is the product version itself`, {
      input: `tag scheme ${scheme.name}`,
      hint: "image patch releases need a scheme with {imageVersion}, such as stackable",
    });
  }
  let tags: string[];
  try {
    tags = await repository.listTags();
  } catch (error) {
    if (isImagewrightError(error) && error.kind === "not-found") tags = [];
    else if (isImagewrightError(error)) throw error.during(`reading the tags of ${repository.name}`);
    else throw error;
  }
  const newest = newestImageVersion(scheme, tags, version.productVersion, { product: version.image });
  if (newest === undefined || newest.coordinates.imageVersion === undefined) {
    throw new ImagewrightError("not-found", `${repository.name} has no released ${version.image} ${version.productVersion} to bump`, {
      input: repository.name,
      hint: `the first release is the catalog's image version ${version.imageVersion}: push git tag ${formatGitTag(scheme, { product: version.image, productVersion: version.productVersion, imageVersion: version.imageVersion })}`,
    });
  }
  const imageVersion = bumpImageVersion(newest.coordinates.imageVersion, part);
  const coordinates = { product: version.image, productVersion: version.productVersion, imageVersion };
  const tag = formatTag(scheme, coordinates);
  return {
    image: version.image,
    productVersion: version.productVersion,
    repository: repository.name,
    part,
    current: { tag: newest.tag, imageVersion: newest.coordinates.imageVersion },
    catalogImageVersion: version.imageVersion,
    next: { imageVersion, tag, gitTag: formatGitTag(scheme, coordinates) },
    taken: tags.includes(tag),
  };
}
