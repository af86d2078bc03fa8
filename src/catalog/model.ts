// The catalog as the rest of imagewright sees it: validated, with defaults applied,
// paths resolved inside each image's folder and dependencies checked.

import type { TagScheme, TagSchemeConfig } from "../versioning/index.ts";

export type ImageKind = "product" | "base";
export type SupportStatus = "supported" | "end-of-life";

export interface Support {
  status: SupportStatus;
  /** YYYY-MM-DD: the day support ends (or ended), when known. */
  endOfLife?: string;
}

/** The product release an image is built from, with placeholders already filled in. */
export interface Artifact {
  url: string;
  checksumUrl?: string;
}

/**
 * `file:line:column` of a declaration, worked out when asked: it needs the file's
 * syntax tree, which only errors pay for.
 */
export type Place = () => string;

export interface Dependency {
  image: string;
  productVersion: string;
  /** Where the dependency is declared. */
  place?: Place;
}

export interface CatalogVersion {
  image: string;
  productVersion: string;
  imageVersion: string;
  /** Its registry tag under the catalog's tag scheme (formatted, and so checked, on load). */
  tag: string;
  /** Absolute path of the Dockerfile (inside the image's folder). */
  dockerfile: string;
  /** Absolute path of the build context (the image's folder unless the image names a subfolder). */
  context: string;
  /** The user's own build arguments: the image's defaults overlaid with this version's. */
  buildArgs: Readonly<Record<string, string>>;
  dependencies: readonly Dependency[];
  platforms: readonly string[];
  support: Support;
  /** Absent keys are present as undefined: every version has one shape, which keeps a 10,000-version plan fast. */
  testSuite: string | undefined;
  artifact: Artifact | undefined;
  /** Where this version's entry is, for errors that point back at the catalog. */
  place: Place;
}

export interface CatalogImage {
  name: string;
  kind: ImageKind;
  description?: string;
  /** Absolute path of the image's folder. */
  directory: string;
  /** Absolute path of its image.yaml. */
  file: string;
  /** Ordered by product version, oldest first. */
  versions: readonly CatalogVersion[];
  byProductVersion: ReadonlyMap<string, CatalogVersion>;
}

export interface Catalog {
  /** Absolute path of the catalog's folder. */
  root: string;
  /** Absolute path of imagewright.yaml. */
  file: string;
  registry: string;
  namespace: string;
  vendor: string;
  tagSchemeConfig: TagSchemeConfig;
  tagScheme: TagScheme;
  platforms: readonly string[];
  evaluation: { registry: string; namespace: string };
  /** Ordered by name. */
  images: readonly CatalogImage[];
  byName: ReadonlyMap<string, CatalogImage>;
}

/** How people and cycle messages name a product version of an image: `kafka 3.9.1`. */
export function versionLabel(version: { image: string; productVersion: string }): string {
  return `${version.image} ${version.productVersion}`;
}

/** The repository of an image without a tag: `127.0.0.1:5000/stackable/kafka`. */
export function repositoryOf(catalog: Pick<Catalog, "registry" | "namespace">, image: string): string {
  return `${catalog.registry}/${catalog.namespace}/${image}`;
}
