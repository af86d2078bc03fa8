import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluate, findOverlaps, isMatrixError, parseMatrixSource, refuseContradictions } from "./imports.ts";
import { HEADER, KAFKA_MATRIX } from "./matrices.ts";

const matrix = parseMatrixSource(KAFKA_MATRIX, { name: "matrix.yaml" });

describe("rule evaluation", () => {
  const cases: Array<[operator: string, productVersion: string, image: string, state: string, rule: number | undefined]> = [
    ["0.2.0", "3.7.0", "0.1.0", "compatible", 1],
    ["0.2.9", "3.6.1", "0.1.7", "compatible", 1],
    ["0.2.1", "3.7.0", "0.2.0", "incompatible", 2],
    ["0.2.1", "9.9.9", "0.2.0", "incompatible", 2], // "*" covers versions no rule names
    ["0.2.1", "9.9.9", "0.1.0", "unsupported", undefined], // no rule: the documented default
    ["0.3.1", "3.7.0", "0.2.5", "compatible", 3],
    ["0.3.1", "3.7.0", "0.3.0", "unsupported", undefined],
    ["0.3.1", "3.7.0", "0.1.9", "incompatible", 4],
    ["0.3.0", "3.8.0", "0.2.0", "unsupported", 5],
    ["0.3.0", "3.8.0", "0.2.1", "unsupported", undefined], // listed versions are exact
    ["0.4.0", "3.7.0", "0.2.0", "unsupported", undefined],
    ["0.1.0", "3.7.0", "0.1.0", "unsupported", undefined],
    ["0.3.0-rc.1", "3.7.0", "0.2.0", "unsupported", undefined], // prerelease operators are outside plain ranges
  ];
  for (const [operatorVersion, productVersion, imageVersion, state, rule] of cases) {
    it(`operator ${operatorVersion}, kafka ${productVersion}, image ${imageVersion} → ${state}`, () => {
      const verdict = evaluate(matrix, { operatorVersion, product: "kafka", productVersion, imageVersion });
      assert.equal(verdict.state, state);
      assert.equal(verdict.rule?.number, rule);
      if (rule === undefined) assert.equal(verdict.reason, "no rule covers it");
      else assert.match(verdict.reason, new RegExp(`^rule ${rule} \\(matrix\\.yaml:\\d+:5\\) says ${state}`));
    });
  }

  it("gives an unknown product the uncovered state", () => {
    const verdict = evaluate(matrix, { operatorVersion: "0.3.0", product: "trino", productVersion: "403", imageVersion: "0.1.0" });
    assert.deepEqual([verdict.state, verdict.covering.length], ["unsupported", 0]);
  });

  it("uses the matrix's own uncovered state", () => {
    const strict = parseMatrixSource(`${HEADER}uncovered: incompatible\nrules: []\n`, { name: "strict.yaml" });
    assert.equal(evaluate(strict, { operatorVersion: "1.0.0", product: "kafka", productVersion: "3.7.0", imageVersion: "1.0.0" }).state, "incompatible");
  });

  it("compares product versions as written, not as numbers", () => {
    const m = parseMatrixSource(
      `${HEADER}rules:\n  - operator: "*"\n    product: trino\n    productVersions: [3.10, 403]\n    images: "*"\n    state: compatible\n`,
      { name: "m.yaml" },
    );
    const at = (productVersion: string): string => evaluate(m, { operatorVersion: "1.0.0", product: "trino", productVersion, imageVersion: "1.0.0" }).state;
    assert.equal(at("3.10"), "compatible");
    assert.equal(at("3.1"), "unsupported");
    assert.equal(at("403"), "compatible");
  });

  it("refuses a malformed operator or image version with invalid-input", () => {
    for (const [operatorVersion, imageVersion] of [["0.3", "0.2.0"], ["0.3.0", "v0.2.0"]] as const) {
      assert.throws(
        () => evaluate(matrix, { operatorVersion, product: "kafka", productVersion: "3.7.0", imageVersion }),
        (error) => isMatrixError(error, "invalid-input") && /is not SemVer/.test(error.message),
      );
    }
  });
});

describe("overlapping rules", () => {
  const overlapping = `${HEADER}rules:
  - operator: ">=0.3.0 <0.4.0"
    product: kafka
    productVersions: ["3.7.0"]
    images: ">=0.2.0 <0.3.0"
    state: compatible
  - operator: "^0.3.1"
    product: kafka
    productVersions: "*"
    images: "0.2.4"
    state: compatible
  - operator: ">=0.3.5"
    product: kafka
    productVersions: ["3.6.1", "3.7.0"]
    images: ">=0.2.3 <0.2.5"
    state: incompatible
    note: broken log4j config
`;

  it("finds agreeing and contradicting pairs, with both rules' places", () => {
    const m = parseMatrixSource(overlapping, { name: "o.yaml" });
    const found = findOverlaps(m).map((o) => [o.first.number, o.second.number, o.contradicts]);
    assert.deepEqual(found, [
      [1, 2, false],
      [1, 3, true],
      [2, 3, true],
    ]);
    assert.throws(
      () => refuseContradictions(m),
      (error) =>
        isMatrixError(error, "invalid-input") &&
        error.place === "o.yaml:4:5 and o.yaml:14:5" &&
        /2 contradicting rule pair/.test(error.message) &&
        /rule 1 \(o\.yaml:4:5\) says compatible but rule 3 \(o\.yaml:14:5\) says incompatible for kafka 3\.7\.0/.test(error.message) &&
        /rule 2 \(o\.yaml:9:5\) says compatible but rule 3/.test(error.message),
    );
  });

  it("lets agreeing overlaps stand, the first rule in file order deciding", () => {
    const m = parseMatrixSource(overlapping.slice(0, overlapping.indexOf("  - operator: \">=0.3.5\"")), { name: "o.yaml" });
    refuseContradictions(m);
    const verdict = evaluate(m, { operatorVersion: "0.3.2", product: "kafka", productVersion: "3.7.0", imageVersion: "0.2.4" });
    assert.equal(verdict.rule?.number, 1);
    assert.deepEqual(verdict.covering.map((rule) => rule.number), [1, 2]);
  });

  it("sees no overlap where product versions or ranges are disjoint", () => {
    const m = parseMatrixSource(
      `${HEADER}rules:
  - { operator: "<1.0.0", product: kafka, productVersions: ["3.7.0"], images: "*", state: compatible }
  - { operator: ">=1.0.0", product: kafka, productVersions: ["3.7.0"], images: "*", state: incompatible }
  - { operator: "*", product: kafka, productVersions: ["3.6.1"], images: "<1.0.0", state: incompatible }
  - { operator: "*", product: kafka, productVersions: ["3.6.1"], images: ">=1.0.0", state: compatible }
  - { operator: "*", product: trino, productVersions: "*", images: "*", state: unsupported }
`,
      { name: "d.yaml" },
    );
    assert.deepEqual(findOverlaps(m), []);
  });
});

describe("matrix source errors name file, line and column", () => {
  const cases: Array<[name: string, text: string, place: string, message: RegExp]> = [
    ["bad YAML", `${HEADER}rules:\n  - operator: [\n`, "bad.yaml:5:1", /not valid YAML/],
    ["unknown state", KAFKA_MATRIX.replace("state: unsupported", "state: untested"), "bad.yaml:35:12", /\$\.rules\[4\]\.state/],
    ["bad operator range", KAFKA_MATRIX.replace('">=0.3.0 <0.4.0"', '">=0.3 <<0.4"'), "bad.yaml:20:15", /\$\.rules\[2\]\.operator: not a SemVer range/],
    ["bad listed image version", KAFKA_MATRIX.replace('["0.2.0"]', '["0.2"]'), "bad.yaml:34:14", /\$\.rules\[4\]\.images/],
    ["missing field", KAFKA_MATRIX.replace("    product: kafka\n    productVersions: \"*\"\n    images: \">=0.2.0\"\n", "    productVersions: \"*\"\n    images: \">=0.2.0\"\n"), "bad.yaml:13:5", /\$\.rules\[1\]\.product/],
    ["unknown key", KAFKA_MATRIX.replace("    note: not in", "    notes: not in"), "bad.yaml:36:5", /Unrecognized key/],
    ["wrong kind", KAFKA_MATRIX.replace("kind: CompatibilityMatrix", "kind: Matrix"), "bad.yaml:2:7", /\$\.kind/],
    ["unknown tag scheme", KAFKA_MATRIX.replace("tagScheme: stackable", "tagScheme: nightly"), "bad.yaml:5:12", /unknown tag scheme preset "nightly"/],
    ["empty", "", "bad.yaml:1:1", /empty/],
  ];
  for (const [name, text, place, message] of cases) {
    it(name, () => {
      assert.throws(
        () => parseMatrixSource(text, { name: "bad.yaml" }),
        (error) => isMatrixError(error, "invalid-input") && error.place === place && message.test(error.message) && error.input === "compatibility matrix bad.yaml",
      );
    });
  }
});
