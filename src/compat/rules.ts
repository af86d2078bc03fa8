// Rule evaluation: which state the matrix gives one combination, and which
// rules overlap (agreeing, which is allowed) or contradict (which is an error).

import semver from "semver";
import { ImagewrightError } from "../errors/index.ts";
import { parseImageVersion, parseOperatorVersion } from "../versioning/index.ts";
import { formatPosition } from "./model.ts";
import type { Combination, CompatState, Matrix, Rule, Verdict } from "./model.ts";

/** Strictness order: when rules disagree the most restrictive state wins. */
const SEVERITY: Readonly<Record<CompatState, number>> = { compatible: 0, unsupported: 1, incompatible: 2 };

export function coversProductVersion(rule: Rule, productVersion: string): boolean {
  return rule.productVersions === "*" || rule.productVersions.includes(productVersion);
}

export function covers(rule: Rule, combination: Combination): boolean {
  return (
    rule.product === combination.product &&
    coversProductVersion(rule, combination.productVersion) &&
    semver.satisfies(combination.operatorVersion, rule.operator) &&
    semver.satisfies(combination.imageVersion, rule.imageRange)
  );
}

/**
 * The matrix's state for one combination. The first covering rule in file order
 * decides; contradicting rules are refused when the matrix is read, so the
 * other covering rules agree with it. No covering rule: the matrix's
 * `uncovered` state (unsupported unless the matrix says otherwise).
 */
export function evaluate(matrix: Matrix, combination: Combination): Verdict {
  parseOperatorVersion(combination.operatorVersion);
  parseImageVersion(combination.imageVersion);
  const covering = matrix.rules.filter((rule) => covers(rule, combination));
  const first = covering[0];
  if (first === undefined) {
    return { state: matrix.settings.uncovered, covering, reason: "no rule covers it" };
  }
  // Belt and braces for prerelease versions, which range intersection does not see: the strictest covering rule wins.
  const rule = covering.reduce((a, b) => (SEVERITY[b.state] > SEVERITY[a.state] ? b : a), first);
  return { state: rule.state, rule, covering, reason: describeRule(rule) };
}

export function describeRule(rule: Rule): string {
  const note = rule.note === undefined ? "" : `: ${rule.note}`;
  return `rule ${rule.number} (${formatPosition(rule.position)}) says ${rule.state}${note}`;
}

export interface Overlap {
  first: Rule;
  second: Rule;
  /** True when the two rules give different states to some combination both cover. */
  contradicts: boolean;
  /** The shared part, in words: product, product versions, operator and image ranges. */
  shared: string;
}

/** Every pair of rules that cover at least one common combination, in file order. */
export function findOverlaps(matrix: Matrix): Overlap[] {
  const overlaps: Overlap[] = [];
  const rules = matrix.rules;
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i];
      const b = rules[j];
      if (a === undefined || b === undefined || a.product !== b.product) continue;
      const productVersions = sharedProductVersions(a, b);
      if (productVersions === undefined) continue;
      if (!semver.intersects(a.operator, b.operator) || !semver.intersects(a.imageRange, b.imageRange)) continue;
      overlaps.push({
        first: a,
        second: b,
        contradicts: a.state !== b.state,
        shared: `${a.product} ${productVersions}, operator "${a.operator}" and "${b.operator}", images "${a.imageRange}" and "${b.imageRange}"`,
      });
    }
  }
  return overlaps;
}

function sharedProductVersions(a: Rule, b: Rule): string | undefined {
  if (a.productVersions === "*" && b.productVersions === "*") return "any version";
  if (a.productVersions === "*") return (b.productVersions as string[]).join(", ");
  if (b.productVersions === "*") return a.productVersions.join(", ");
  const bVersions = b.productVersions;
  const shared = a.productVersions.filter((version) => bVersions.includes(version));
  return shared.length === 0 ? undefined : shared.join(", ");
}

export function describeOverlap(overlap: Overlap): string {
  const { first, second } = overlap;
  return (
    `rule ${first.number} (${formatPosition(first.position)}) says ${first.state} but ` +
    `rule ${second.number} (${formatPosition(second.position)}) says ${second.state} for ${overlap.shared}`
  );
}

/** Throws invalid-input listing every contradiction, the first one's rules as the place. */
export function refuseContradictions(matrix: Matrix): void {
  const contradictions = findOverlaps(matrix).filter((overlap) => overlap.contradicts);
  const first = contradictions[0];
  if (first === undefined) return;
  throw new ImagewrightError(
    "invalid-input",
    `compatibility matrix has ${contradictions.length} contradicting rule pair(s):\n  ` +
      contradictions.map(describeOverlap).join("\n  "),
    {
      input: `compatibility matrix ${matrix.source.name}`,
      place: `${formatPosition(first.first.position)} and ${formatPosition(first.second.position)}`,
      hint: "split one rule's ranges so they no longer overlap (e.g. \">=0.2.0 <0.2.3 || >=0.2.4 <0.3.0\")",
    },
  );
}
