// Properties of the matrix's static views over random matrices: overlap
// detection misses no pair of rules that share a combination, and the rendered
// table gives every combination exactly the state evaluation gives it.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import semver from "semver";
import { matrixArbitrary, PRODUCT_VERSIONS, version } from "./arbitraries.ts";
import { covers, evaluate, findOverlaps, matrixTable } from "./imports.ts";
import type { Combination } from "./imports.ts";

const combination: fc.Arbitrary<Combination> = fc.record({
  operatorVersion: version,
  product: fc.constantFrom("kafka", "trino"),
  productVersion: fc.constantFrom(...PRODUCT_VERSIONS, "9.9.9"),
  imageVersion: version,
});

describe("matrix properties", () => {
  it("reports every pair of rules that share a combination, as contradicting exactly when their states differ", () => {
    fc.assert(
      fc.property(matrixArbitrary, fc.array(combination, { minLength: 1, maxLength: 40 }), (matrix, combinations) => {
        const overlaps = new Map(findOverlaps(matrix).map((o) => [`${o.first.number}/${o.second.number}`, o.contradicts]));
        for (const c of combinations) {
          const covering = matrix.rules.filter((rule) => covers(rule, c));
          for (let i = 0; i < covering.length; i++) {
            for (let j = i + 1; j < covering.length; j++) {
              const a = covering[i]!;
              const b = covering[j]!;
              const key = `${a.number}/${b.number}`;
              assert.ok(overlaps.has(key), `rules ${key} both cover ${JSON.stringify(c)} but no overlap was reported`);
              assert.equal(overlaps.get(key), a.state !== b.state);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("renders a table in which every combination falls in exactly one cell, holding its evaluated state", () => {
    fc.assert(
      fc.property(matrixArbitrary, fc.array(combination, { minLength: 1, maxLength: 40 }), (matrix, combinations) => {
        const table = matrixTable(matrix);
        for (const c of combinations) {
          const verdict = evaluate(matrix, c);
          const listed = table.columns.some((column) => column.product === c.product && column.productVersion === c.productVersion);
          const columns = table.columns
            .map((column, index) => ({ column, index }))
            .filter(({ column }) => column.product === c.product && column.productVersion === (listed ? c.productVersion : "*") && semver.satisfies(c.imageVersion, column.images));
          if (columns.length === 0) {
            // No column: no rule names this product (version), so none covers it and the state is the uncovered one.
            assert.equal(verdict.rule, undefined);
            assert.equal(verdict.state, matrix.settings.uncovered);
            continue;
          }
          assert.equal(columns.length, 1, `image ${c.imageVersion} falls in ${columns.length} columns`);
          const rows = table.rows.filter((row) => semver.satisfies(c.operatorVersion, row.operator));
          assert.equal(rows.length, 1, `operator ${c.operatorVersion} falls in ${rows.length} rows: ${table.rows.map((r) => r.operator).join(" | ")}`);
          const cell = rows[0]!.cells[columns[0]!.index];
          assert.deepEqual(cell, verdict.rule === undefined ? { state: verdict.state } : { state: verdict.state, rule: verdict.rule.number });
        }
      }),
      { numRuns: 300 },
    );
  });
});
