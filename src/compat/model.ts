// The compatibility matrix as the rest of imagewright sees it: rules over
// operator, product and image versions, each with a state and where it was written.

import type { TagSchemeConfig } from "../versioning/index.ts";

export const COMPAT_STATES = ["compatible", "unsupported", "incompatible"] as const;
export type CompatState = (typeof COMPAT_STATES)[number];

/** Where something was written: a line and column in a file, and inside an embedded document when there is one. */
export interface SourcePosition {
  file: string;
  /** 1-based; 0 when only the embedded position is known. */
  line: number;
  column: number;
  /** Set when the matrix sits inside a ConfigMap: the position within the data string. */
  embedded?: { key: string; line: number; column: number };
}

export function formatPosition(position: SourcePosition): string {
  // Line 0: the embedding (a quoted data string) cannot say where in the outer file.
  const outer = position.line === 0 ? position.file : `${position.file}:${position.line}:${position.column}`;
  if (position.embedded === undefined) return outer;
  const { key, line, column } = position.embedded;
  return `${outer} (data.${key} line ${line}, column ${column})`;
}

export interface Rule {
  /** 1-based position among the matrix's rules, as people count them. */
  number: number;
  /** SemVer range of operator versions, e.g. `>=0.3.0 <0.4.0`. */
  operator: string;
  product: string;
  /** Exact product versions (compared as written: `3.10` is not `3.1`), or `*` for any. */
  productVersions: "*" | string[];
  /** Image versions as written: a SemVer range, or a list of exact versions. */
  images: string | string[];
  /** `images` as one SemVer range, for evaluation. */
  imageRange: string;
  state: CompatState;
  note?: string;
  position: SourcePosition;
}

export interface MatrixSettings {
  /** Registry host (and port) images are pulled from, e.g. `127.0.0.1:5000`. */
  registry?: string;
  /** Path between host and product name, e.g. `stackable`. */
  organisation?: string;
  /** How tags read (see src/versioning): a preset name such as `stackable`, or templates. Default `stackable`. */
  tagScheme?: TagSchemeConfig;
  /** Vendor word of the scheme, e.g. `stackable` in `3.7.0_stackable0.2.1`. */
  vendor?: string;
  /** The state of a combination no rule covers. */
  uncovered: CompatState;
}

export interface ProductSettings {
  /** Repository path under the registry when it is not `<organisation>/<product>`. */
  repository?: string;
}

export interface Matrix {
  /** The source exactly as written (comments included), so a ConfigMap carries it verbatim. */
  source: { name: string; text: string };
  /** sha256 of the source text: two matrices with the same digest give the same answers. */
  digest: string;
  settings: MatrixSettings;
  products: Record<string, ProductSettings>;
  rules: Rule[];
}

/** One question the matrix answers: may this operator run this image of this product version? */
export interface Combination {
  operatorVersion: string;
  product: string;
  productVersion: string;
  imageVersion: string;
}

export interface Verdict {
  state: CompatState;
  /** The rule that decided (the first covering rule in file order); absent when no rule covers it. */
  rule?: Rule;
  /** Every rule that covers the combination, in file order. */
  covering: Rule[];
  reason: string;
}
