// Random matrices, repositories and requests for the compat property tests.

import fc from "fast-check";
import semver from "semver";
import { stringify } from "yaml";
import { formatTag, tagScheme } from "../../src/versioning/index.ts";
import { parseMatrixSource } from "./imports.ts";
import type { CompatState } from "./imports.ts";

export const PRODUCT_VERSIONS = ["3.6.1", "3.7.0", "3.10.0"];
const STATES: CompatState[] = ["compatible", "unsupported", "incompatible"];
const scheme = tagScheme("stackable");

export const version = fc.tuple(fc.nat(2), fc.nat(3), fc.nat(3)).map(([a, b, c]) => `${a}.${b}.${c}`);
const range = fc.oneof(
  fc.tuple(version, version).map(([a, b]) => (semver.lte(a, b) ? `>=${a} <${b}` : `>=${b} <${a}`)),
  version.map((v) => `^${v}`),
  version.map((v) => `~${v}`),
  version,
  version.map((v) => `<${v}`),
  version.map((v) => `>${v}`),
  version.map((v) => `<=${v}`),
  fc.constant("*"),
  fc.tuple(version, version).map(([a, b]) => `${a} || ${b}`),
);
const images = fc.oneof(range, fc.uniqueArray(version, { minLength: 1, maxLength: 3 }));
const rule = fc.record({
  operator: range,
  product: fc.constantFrom("kafka", "trino"),
  productVersions: fc.oneof(fc.constant("*"), fc.uniqueArray(fc.constantFrom(...PRODUCT_VERSIONS), { minLength: 1 })),
  images,
  state: fc.constantFrom(...STATES),
});
export const matrixArbitrary = fc
  .record({ rules: fc.array(rule, { maxLength: 8 }), uncovered: fc.constantFrom(...STATES) })
  // Through YAML text, as users write it; contradictions are left in on purpose: selection must be safe even then.
  .map(({ rules, uncovered }) =>
    parseMatrixSource(stringify({ apiVersion: "imagewright.dev/v1", kind: "CompatibilityMatrix", uncovered, rules }), { name: "random.yaml" }),
  );
export const tagsArbitrary = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...PRODUCT_VERSIONS), version), { maxLength: 12, selector: ([p, v]) => `${p}_${v}` })
  .map((pairs) => [...pairs.map(([productVersion, imageVersion]) => formatTag(scheme, { productVersion, imageVersion })), "latest", "3.7.0_stackable0.9.0-rc.1"]);
export const requestArbitrary = fc.record({
  operatorVersion: version,
  product: fc.constant("kafka"),
  productVersion: fc.constantFrom(...PRODUCT_VERSIONS),
  allowUnsupported: fc.boolean(),
});

