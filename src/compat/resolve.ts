// Image selection for operators: from a repository's tags, the highest image
// version of one product version that the matrix allows this operator to run,
// pinned by digest. The same tags and matrix always give the same answer.

import semver from "semver";
import { ImagewrightError } from "../errors/index.ts";
import type { ImageStore } from "../oci/model.ts";
import { orderTags, parseImageVersion, parseOperatorVersion, parseProductVersion, tagScheme } from "../versioning/index.ts";
import type { TagScheme } from "../versioning/index.ts";
import { formatPosition } from "./model.ts";
import type { CompatState, Matrix, Rule } from "./model.ts";
import { evaluate } from "./rules.ts";

/** The scheme tags are read with when the matrix names none: ADR018's `3.7.0_stackable0.2.1`. */
export const DEFAULT_TAG_SCHEME = "stackable";

export interface ImageRequest {
  operatorVersion: string;
  product: string;
  productVersion: string;
  /** Ask for exactly this image version; it is checked like any other. */
  imageVersion?: string;
  /** Accept an unsupported image (with a warning) when no compatible one exists. Incompatible is never accepted. */
  allowUnsupported?: boolean;
}

export interface RuleSummary {
  number: number;
  position: string;
  state: CompatState;
  note?: string;
}

export interface Candidate {
  tag: string;
  imageVersion: string;
  state: CompatState;
  reason: string;
  rule?: RuleSummary;
}

interface Answer {
  operatorVersion: string;
  product: string;
  productVersion: string;
  matrixDigest: string;
  /** Every image of the product version, highest first, with the matrix's verdict. */
  candidates: Candidate[];
}

export interface Resolution extends Answer {
  found: true;
  /** `host/org/kafka:3.7.0_stackable0.2.1@sha256:…` */
  reference: string;
  repository: string;
  tag: string;
  digest: string;
  imageVersion: string;
  state: "compatible" | "unsupported";
  reason: string;
  rule?: RuleSummary;
  warnings: string[];
}

export interface Refusal extends Answer {
  found: false;
  reason: string;
}

export type Selection = { found: true; candidate: Candidate; warnings: string[] } | { found: false; reason: string };

export function schemeOf(matrix: Matrix): TagScheme {
  const { tagScheme: config, vendor } = matrix.settings;
  if (config === undefined) return tagScheme(vendor === undefined ? DEFAULT_TAG_SCHEME : { preset: DEFAULT_TAG_SCHEME, vendor });
  if (typeof config === "string" && vendor !== undefined) return tagScheme({ preset: config, vendor });
  return tagScheme(config);
}

/** The repository path of a product's images: the matrix's own choice, else `<organisation>/<product>`. */
export function repositoryPathOf(matrix: Matrix, product: string): string {
  const configured = matrix.products[product]?.repository;
  if (configured !== undefined) return configured;
  const organisation = matrix.settings.organisation;
  return organisation === undefined ? product : `${organisation}/${product}`;
}

export function knowsProduct(matrix: Matrix, product: string): boolean {
  return product in matrix.products || matrix.rules.some((rule) => rule.product === product);
}

export function summarizeRule(rule: Rule): RuleSummary {
  return {
    number: rule.number,
    position: formatPosition(rule.position),
    state: rule.state,
    ...(rule.note === undefined ? {} : { note: rule.note }),
  };
}

/** The matrix's verdict on every image of the product version among `tags`, highest image version first. */
export function candidatesAmong(matrix: Matrix, request: ImageRequest, tags: readonly string[], scheme = schemeOf(matrix)): Candidate[] {
  // Every template writes the product version verbatim, so tags without its text cannot be its images;
  // skipping them before parsing keeps a repository of many product versions cheap to read.
  const mentioning = tags.filter((tag) => tag.includes(request.productVersion));
  const readings = orderTags(scheme, mentioning, { products: [request.product] }).concrete;
  const candidates: Candidate[] = [];
  for (const reading of readings) {
    const c = reading.coordinates;
    // Release candidates and prerelease image versions are for evaluation, not for operators.
    if (reading.kind !== "release" || c.imageVersion === undefined || semver.prerelease(c.imageVersion) !== null) continue;
    if (c.productVersion !== request.productVersion || (c.product !== undefined && c.product !== request.product)) continue;
    const verdict = evaluate(matrix, { ...request, imageVersion: c.imageVersion });
    candidates.push({
      tag: reading.tag,
      imageVersion: c.imageVersion,
      state: verdict.state,
      reason: verdict.reason,
      ...(verdict.rule === undefined ? {} : { rule: summarizeRule(verdict.rule) }),
    });
  }
  // Highest first; equal image versions under two tags (should not happen in one scheme) ordered by tag for determinism.
  return candidates.sort((a, b) => semver.compare(b.imageVersion, a.imageVersion) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

/**
 * Picks among candidates (highest first): a pinned version is checked as is;
 * otherwise the highest compatible image, and only when there is none and the
 * policy allows it, the highest unsupported one. Incompatible is never picked.
 */
export function selectCandidate(candidates: readonly Candidate[], request: ImageRequest): Selection {
  const describe = (candidate: Candidate): string => `image ${candidate.imageVersion} is ${candidate.state} (${candidate.reason})`;
  const pool =
    request.imageVersion === undefined ? candidates : candidates.filter((candidate) => semver.eq(candidate.imageVersion, request.imageVersion ?? ""));
  const compatible = pool.find((candidate) => candidate.state === "compatible");
  if (compatible !== undefined) return { found: true, candidate: compatible, warnings: [] };
  const unsupported = pool.find((candidate) => candidate.state === "unsupported");
  if (unsupported !== undefined && request.allowUnsupported === true) {
    return { found: true, candidate: unsupported, warnings: [`using an unsupported image: ${describe(unsupported)}`] };
  }
  const who = `operator ${request.operatorVersion}, ${request.product} ${request.productVersion}`;
  if (pool.length === 0) return { found: false, reason: `${who}: no image to choose from` };
  const why = pool.map(describe).join("; ");
  const advice = unsupported === undefined ? "" : " (allow unsupported images to accept one)";
  return { found: false, reason: `${who}: no compatible image${advice}: ${why}` };
}

export interface ResolveOptions {
  /** The product's repository as an ImageStore (e.g. RegistryClient.repository(host, path)). */
  store: ImageStore;
  /** How references are written: `host/org/kafka`. Default: the store's name. */
  repository?: string;
}

/**
 * The image an operator should run. Throws not-found for an unknown product,
 * product version or pinned image version; returns a Refusal (found: false)
 * when images exist but the matrix allows none of them.
 */
export async function resolveImage(matrix: Matrix, request: ImageRequest, options: ResolveOptions): Promise<Resolution | Refusal> {
  parseOperatorVersion(request.operatorVersion);
  parseProductVersion(request.productVersion);
  if (request.imageVersion !== undefined) parseImageVersion(request.imageVersion);
  const repository = options.repository ?? options.store.name;
  if (!knowsProduct(matrix, request.product)) {
    throw new ImagewrightError("not-found", `the compatibility matrix knows no product "${request.product}"`, {
      input: `product "${request.product}"`,
      place: matrix.source.name,
      hint: `products in the matrix: ${[...new Set([...Object.keys(matrix.products), ...matrix.rules.map((rule) => rule.product)])].join(", ")}`,
    });
  }
  const tags = await options.store.listTags();
  const candidates = candidatesAmong(matrix, request, tags);
  if (candidates.length === 0) {
    throw new ImagewrightError("not-found", `no image of ${request.product} ${request.productVersion} in ${repository}`, {
      input: `product version "${request.productVersion}"`,
      place: repository,
      hint: `${tags.length} tag(s) there; none is a release of ${request.productVersion} under tag scheme ${schemeOf(matrix).name}`,
    });
  }
  if (request.imageVersion !== undefined && !candidates.some((candidate) => semver.eq(candidate.imageVersion, request.imageVersion ?? ""))) {
    throw new ImagewrightError("not-found", `no image version ${request.imageVersion} of ${request.product} ${request.productVersion} in ${repository}`, {
      input: `image version "${request.imageVersion}"`,
      place: repository,
      hint: `image versions there: ${candidates.map((candidate) => candidate.imageVersion).join(", ")}`,
    });
  }
  const answer: Answer = {
    operatorVersion: request.operatorVersion,
    product: request.product,
    productVersion: request.productVersion,
    matrixDigest: matrix.digest,
    candidates,
  };
  const selection = selectCandidate(candidates, request);
  if (!selection.found) return { found: false, reason: selection.reason, ...answer };
  const { candidate } = selection;
  const descriptor = await options.store.resolve(candidate.tag);
  // The answer first, then what it was chosen from: people and `jq` read JSON top down.
  return {
    found: true,
    reference: `${repository}:${candidate.tag}@${descriptor.digest}`,
    state: candidate.state === "compatible" ? "compatible" : "unsupported",
    reason: candidate.reason,
    ...(candidate.rule === undefined ? {} : { rule: candidate.rule }),
    warnings: selection.warnings,
    operatorVersion: answer.operatorVersion,
    product: answer.product,
    productVersion: answer.productVersion,
    imageVersion: candidate.imageVersion,
    repository,
    tag: candidate.tag,
    digest: descriptor.digest,
    matrixDigest: answer.matrixDigest,
    candidates: answer.candidates,
  };
}

/** resolveImage for callers that want an exception: a refusal becomes a `failed` error carrying the reason. */
export async function requireImage(matrix: Matrix, request: ImageRequest, options: ResolveOptions): Promise<Resolution> {
  const answer = await resolveImage(matrix, request, options);
  if (answer.found) return answer;
  throw new ImagewrightError("failed", `refused: ${answer.reason}`, {
    input: `operator ${request.operatorVersion}, ${request.product} ${request.productVersion}`,
    place: matrix.source.name,
  });
}

