// Release integration: when an image patch version is released, which rules
// already cover it, and the matrix source updated where rules list exact
// versions — edited through the YAML Document API so comments stay.

import semver from "semver";
import { isScalar, isSeq, parseDocument, Scalar } from "yaml";
import { ImagewrightError } from "../errors/index.ts";
import { parseImageVersion, parseProductVersion } from "../versioning/index.ts";
import type { Rule } from "./model.ts";
import { summarizeRule } from "./resolve.ts";
import type { RuleSummary } from "./resolve.ts";
import { coversProductVersion, refuseContradictions } from "./rules.ts";
import { parseMatrixSource } from "./source.ts";

export interface ImageRelease {
  product: string;
  productVersion: string;
  imageVersion: string;
}

export interface RuleCoverage {
  rule: RuleSummary;
  operator: string;
  images: string;
  /** `range`: its range already covers the version; `listed`: it lists it; `added`: it now lists it. */
  how: "range" | "listed" | "added";
}

export interface CoverReport {
  release: ImageRelease;
  /** Rules of this product version that cover the release, in file order. */
  covering: RuleCoverage[];
  /** The matrix source after the update (the same text when nothing was added). */
  text: string;
  changed: boolean;
}

/**
 * Which rules cover a newly released image version, and the source with it added
 * to every rule that lists the previous patch of the same MAJOR.MINOR by name: a
 * patch release inherits the state its predecessor has in that rule. A new minor
 * or major version is never added on its own — it may change compatibility.
 * Throws conflict when the addition would make two rules contradict.
 */
export function coverRelease(text: string, name: string, release: ImageRelease): CoverReport {
  parseProductVersion(release.productVersion);
  const version = parseImageVersion(release.imageVersion);
  const matrix = parseMatrixSource(text, { name });
  const relevant = matrix.rules.filter((rule) => rule.product === release.product && coversProductVersion(rule, release.productVersion));
  const covering: RuleCoverage[] = [];
  const toAdd: Rule[] = [];
  for (const rule of relevant) {
    const coverage = (how: RuleCoverage["how"]): RuleCoverage => ({ rule: summarizeRule(rule), operator: rule.operator, images: rule.imageRange, how });
    if (Array.isArray(rule.images)) {
      if (rule.images.some((listed) => semver.eq(listed, version))) covering.push(coverage("listed"));
      else if (rule.images.some((listed) => isEarlierPatch(listed, version))) {
        toAdd.push(rule);
        covering.push(coverage("added"));
      }
    } else if (semver.satisfies(version, rule.images)) {
      covering.push(coverage("range"));
    }
  }
  if (toAdd.length === 0) return { release, covering, text, changed: false };

  const document = parseDocument(text, { schema: "failsafe", keepSourceTokens: false });
  for (const rule of toAdd) {
    const list = document.getIn(["rules", rule.number - 1, "images"], true);
    if (!isSeq(list)) continue;
    const sample = list.items.find(isScalar);
    const item = new Scalar(version);
    // Written like its neighbours: "0.2.0" stays quoted, 0.2.0 stays plain.
    if (sample?.type !== undefined) item.type = sample.type;
    list.items.push(item);
  }
  const updated = document.toString({ lineWidth: 0, flowCollectionPadding: false });
  try {
    refuseContradictions(parseMatrixSource(updated, { name }));
  } catch (error) {
    if (!(error instanceof ImagewrightError)) throw error;
    throw new ImagewrightError("conflict", `adding image ${version} to the rules that list its previous patch would contradict other rules: ${error.message}`, {
      input: `compatibility matrix ${name}`,
      place: error.place,
      hint: "decide the state of the new image by hand",
      cause: error,
    });
  }
  return { release, covering, text: updated, changed: true };
}

function isEarlierPatch(listed: string, version: string): boolean {
  const a = semver.parse(listed);
  const b = semver.parse(version);
  return a !== null && b !== null && a.major === b.major && a.minor === b.minor && a.patch < b.patch && b.prerelease.length === 0;
}
