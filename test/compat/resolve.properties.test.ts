// Properties of image selection over random matrices and random repositories:
// never an incompatible image, always the highest allowed one, the same answer
// whatever order the registry lists tags in.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import semver from "semver";
import { matrixArbitrary, requestArbitrary, tagsArbitrary } from "./arbitraries.ts";
import { candidatesAmong, selectCandidate } from "./imports.ts";
import type { CompatState, ImageRequest, Matrix } from "./imports.ts";

/** The state the matrix gives, computed the slow, obvious way. */
function oracleState(matrix: Matrix, request: ImageRequest, imageVersion: string): CompatState {
  const covering = matrix.rules.filter(
    (r) =>
      r.product === request.product &&
      (r.productVersions === "*" || r.productVersions.includes(request.productVersion)) &&
      semver.satisfies(request.operatorVersion, r.operator) &&
      semver.satisfies(imageVersion, r.imageRange),
  );
  if (covering.length === 0) return matrix.settings.uncovered;
  if (covering.some((r) => r.state === "incompatible")) return "incompatible";
  if (covering.some((r) => r.state === "unsupported")) return "unsupported";
  return "compatible";
}

function imagesOf(tags: readonly string[], productVersion: string): string[] {
  const prefix = `${productVersion}_stackable`;
  return tags.filter((tag) => tag.startsWith(prefix) && !tag.includes("-rc")).map((tag) => tag.slice(prefix.length));
}

function highest(versions: readonly string[]): string | undefined {
  return [...versions].sort(semver.rcompare)[0];
}

describe("image selection properties", () => {
  it("never picks an incompatible image, and picks unsupported only when allowed and nothing compatible exists", () => {
    fc.assert(
      fc.property(matrixArbitrary, tagsArbitrary, requestArbitrary, (matrix, tags, request) => {
        const selection = selectCandidate(candidatesAmong(matrix, request, tags), request);
        if (!selection.found) return;
        const state = oracleState(matrix, request, selection.candidate.imageVersion);
        assert.notEqual(state, "incompatible");
        assert.equal(selection.candidate.state, state);
        if (state === "unsupported") {
          assert.equal(request.allowUnsupported, true);
          assert.ok(imagesOf(tags, request.productVersion).every((v) => oracleState(matrix, request, v) !== "compatible"));
          assert.equal(selection.warnings.length, 1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("always returns the highest compatible image version when there is one", () => {
    fc.assert(
      fc.property(matrixArbitrary, tagsArbitrary, requestArbitrary, (matrix, tags, request) => {
        const all = imagesOf(tags, request.productVersion);
        const compatible = all.filter((v) => oracleState(matrix, request, v) === "compatible");
        const unsupported = all.filter((v) => oracleState(matrix, request, v) === "unsupported");
        const selection = selectCandidate(candidatesAmong(matrix, request, tags), request);
        const expected = highest(compatible) ?? (request.allowUnsupported === true ? highest(unsupported) : undefined);
        assert.equal(selection.found ? selection.candidate.imageVersion : undefined, expected);
        if (selection.found) assert.equal(selection.candidate.tag, `${request.productVersion}_stackable${expected}`);
        else assert.match(selection.reason, all.length === 0 ? /no image to choose from/ : /no compatible image/);
      }),
      { numRuns: 500 },
    );
  });

  it("checks a pinned image version like any other and never swaps it for another", () => {
    fc.assert(
      fc.property(matrixArbitrary, tagsArbitrary, requestArbitrary, fc.nat(), (matrix, tags, request, pick) => {
        const all = imagesOf(tags, request.productVersion);
        fc.pre(all.length > 0);
        const pinned = all[pick % all.length] ?? "";
        const pinnedRequest = { ...request, imageVersion: pinned };
        const selection = selectCandidate(candidatesAmong(matrix, pinnedRequest, tags), pinnedRequest);
        const state = oracleState(matrix, request, pinned);
        const allowed = state === "compatible" || (state === "unsupported" && request.allowUnsupported);
        assert.equal(selection.found, allowed);
        if (selection.found) assert.equal(selection.candidate.imageVersion, pinned);
        else assert.match(selection.reason, new RegExp(`image ${pinned.replaceAll(".", "\\.")} is ${state}`));
      }),
      { numRuns: 300 },
    );
  });

  it("answers the same whatever order the tags are listed in", () => {
    fc.assert(
      fc.property(matrixArbitrary, tagsArbitrary.chain((tags) => fc.tuple(fc.constant(tags), fc.shuffledSubarray(tags, { minLength: tags.length }))), requestArbitrary, (matrix, [tags, shuffled], request) => {
        const a = selectCandidate(candidatesAmong(matrix, request, tags), request);
        const b = selectCandidate(candidatesAmong(matrix, request, shuffled), request);
        assert.deepEqual(a, b);
        assert.deepEqual(candidatesAmong(matrix, request, tags), candidatesAmong(matrix, request, shuffled));
      }),
      { numRuns: 300 },
    );
  });
});
