// Product versions (own grammar, numeric order) and image/operator versions (SemVer).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import {
  bumpImageVersion,
  compareImageVersions,
  compareOperatorVersions,
  compareProductVersions,
  parseImageVersion,
  parseOperatorVersion,
  parseProductVersion,
} from "../../src/versioning/index.ts";
import { productVersions } from "./arbitraries.ts";

function refused(run: () => unknown, expected: { place?: string; message?: RegExp; kind?: string }): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ImagewrightError, `expected ImagewrightError, got ${String(error)}`);
    assert.equal(error.kind, expected.kind ?? "invalid-input");
    if (expected.place !== undefined) assert.equal(error.place, expected.place);
    if (expected.message !== undefined) assert.match(error.message, expected.message);
    return true;
  });
}

describe("product version grammar", () => {
  for (const text of ["3.7.0", "403", "1.5.1", "2.13", "24.7.0", "3.07", "8u372", "1.0.RC1", "2.4.0.0.1", "0"]) {
    it(`accepts ${text}`, () => {
      const version = parseProductVersion(text);
      assert.equal(version.text, text);
      assert.deepEqual(version.segments, text.split("."));
    });
  }
  const bad: Array<[string, string, RegExp]> = [
    ["", "character 1", /empty/],
    ["v3.7.0", "character 1", /must start with a digit/],
    [".3", "character 1", /must start with a digit/],
    ["3.7.", "character 4", /must not end with "\."/],
    ["3..7", "character 3", /empty segment at character 3/],
    ["3.7.0-rc1", "character 6", /"-" at character 6/],
    ["3.7_0", "character 4", /"_" at character 4/],
    ["3.7.0+build", "character 6", /"\+" at character 6/],
    ["3 .7", "character 2", /" " at character 2/],
    ["1" + ".1".repeat(64), "character 129", /at most 128/],
  ];
  for (const [text, place, message] of bad) {
    it(`refuses ${JSON.stringify(text.slice(0, 20))} at ${place}`, () => {
      refused(() => parseProductVersion(text), { place, message });
    });
  }
});

describe("product version order", () => {
  const ascending: Array<[string, string]> = [
    ["3.9.0", "3.10.0"],
    ["2.13", "2.13.0"],
    ["99", "403"],
    ["403", "1000"],
    ["1.0.RC1", "1.0.0"],
    ["1.0.RC1", "1.0.RC2"],
    ["1.0.M9", "1.0.M10"],
    ["3.07", "3.7"], // numerically equal: ordered by text so 0 only means "identical"
    ["8", "8u372"],
    ["8u92", "8u372"],
    ["24.7.0", "24.10.0"],
    ["9999999999999999999999", "10000000000000000000000"], // longer than any JS number
  ];
  for (const [low, high] of ascending) {
    it(`${low} < ${high}`, () => {
      assert.equal(compareProductVersions(low, high), -1);
      assert.equal(compareProductVersions(high, low), 1);
    });
  }
  it("sorts numerically, never as text", () => {
    const sorted = ["3.10.0", "3.9.0", "3.9.10", "3.9.2", "10.0", "403", "2.13"].sort(compareProductVersions);
    assert.deepEqual(sorted, ["2.13", "3.9.0", "3.9.2", "3.9.10", "3.10.0", "10.0", "403"]);
  });
  it("refuses to compare something that is not a product version", () => {
    refused(() => compareProductVersions("3.7.0", "latest"), { message: /"latest" must start with a digit/ });
  });
  it("is a total order: antisymmetric, 0 only for equal text, transitive", () => {
    fc.assert(
      fc.property(productVersions, productVersions, productVersions, (a, b, c) => {
        const ab = compareProductVersions(a, b);
        assert.equal(compareProductVersions(b, a), -ab);
        assert.equal(ab === 0, a === b);
        if (ab <= 0 && compareProductVersions(b, c) <= 0) assert.ok(compareProductVersions(a, c) <= 0);
      }),
    );
  });
  it("orders all-numeric versions like their numbers, segment by segment", () => {
    const numeric = fc.array(fc.nat({ max: 5000 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(numeric, numeric, (x, y) => {
        let expected = 0;
        for (let i = 0; i < Math.min(x.length, y.length) && expected === 0; i++) expected = Math.sign(x[i]! - y[i]!);
        if (expected === 0) expected = Math.sign(x.length - y.length);
        assert.equal(compareProductVersions(x.join("."), y.join(".")), expected);
      }),
    );
  });
});

describe("image and operator versions (SemVer)", () => {
  it("accepts SemVer exactly as written", () => {
    for (const text of ["0.1.0", "1.12.3", "0.3.0-rc.1", "2.0.0-alpha-1"]) assert.equal(parseImageVersion(text), text);
    assert.equal(parseOperatorVersion("0.3.1+build.5"), "0.3.1+build.5");
  });
  const bad: Array<[string, string, RegExp]> = [
    ["0.1", "character 3", /not SemVer/],
    ["v0.1.0", "character 1", /not SemVer/],
    ["01.1.0", "character 2", /not SemVer/],
    [" 0.1.0", "character 1", /not SemVer/],
    ["0.1.0+build", "character 6", /build metadata/],
    ["", "character 1", /not SemVer/],
  ];
  for (const [text, place, message] of bad) {
    it(`refuses image version ${JSON.stringify(text)}`, () => refused(() => parseImageVersion(text), { place, message }));
  }
  it("refuses a bad operator version", () => refused(() => parseOperatorVersion("0.3"), { message: /operator version "0.3" is not SemVer/ }));
  it("compares image versions by SemVer precedence", () => {
    assert.equal(compareImageVersions("0.10.0", "0.9.0"), 1);
    assert.equal(compareImageVersions("0.3.0-rc.1", "0.3.0"), -1);
    assert.equal(compareImageVersions("1.0.0", "1.0.0"), 0);
    assert.equal(compareOperatorVersions("0.3.1", "0.3.1+x"), 0);
    assert.equal(compareOperatorVersions("24.3.0", "23.11.0"), 1);
  });
  const bumps: Array<[string, "major" | "minor" | "patch", string]> = [
    ["0.2.0", "patch", "0.2.1"],
    ["0.2.9", "minor", "0.3.0"],
    ["0.2.9", "major", "1.0.0"],
    ["1.4.2", "major", "2.0.0"],
    ["0.3.0-rc.1", "patch", "0.3.0"],
  ];
  for (const [from, part, to] of bumps) {
    it(`bumps ${part} of ${from} to ${to}`, () => assert.equal(bumpImageVersion(from, part), to));
  }
  it("refuses to bump something that is not an image version", () => refused(() => bumpImageVersion("0.2", "patch"), { message: /not SemVer/ }));
});
