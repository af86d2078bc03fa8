// Ordering of repository tags: numeric product versions, SemVer image versions, release
// candidates before their release, newest image version, floating tags resolved.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import { compareImageCoordinates, formatTag, newestImageVersion, orderTags, resolveFloatingTag, tagScheme } from "../../src/versioning/index.ts";
import { productVersions, rcs, releasedImageVersions } from "./arbitraries.ts";

describe("orderTags", () => {
  it("sorts by product version numerically, then image version, with RCs before their release", () => {
    const kafka = tagScheme("kafka");
    const ordered = orderTags(kafka, ["3.10.0", "3.9.0", "latest", "3.10.0-rc1", "3.9.1-rc0", "3.10.0-rc0", "3.9.1", "4.0.0-rc10", "4.0.0-rc9", "3.7.0-rc01"]);
    assert.deepEqual(
      ordered.concrete.map((r) => r.tag),
      ["3.9.0", "3.9.1-rc0", "3.9.1", "3.10.0-rc0", "3.10.0-rc1", "3.10.0", "4.0.0-rc9", "4.0.0-rc10"],
    );
    assert.deepEqual(
      ordered.ignored.map((i) => i.tag),
      ["latest", "3.7.0-rc01"],
    );
    assert.match(ordered.ignored[0]!.reason, /"latest" does not fit tag scheme kafka/);
  });

  it("orders image versions as SemVer within a product version, and keeps floating tags apart", () => {
    const legacy = tagScheme("stackable-legacy");
    const tags = ["2.8.0-stackable0.10.0", "2.8.0-stackable0", "2.8.0-stackable0.9.0", "2.10.0-stackable0.1.0", "2.8.0-stackable1.0.0-rc.1", "2.8.0-stackable1.0.0", "2.8.0_stackable0.1.0", "2.9.0-stackable0.1.0"];
    const ordered = orderTags(legacy, tags);
    assert.deepEqual(
      ordered.concrete.map((r) => r.tag),
      ["2.8.0-stackable0.9.0", "2.8.0-stackable0.10.0", "2.8.0-stackable1.0.0-rc.1", "2.8.0-stackable1.0.0", "2.9.0-stackable0.1.0", "2.10.0-stackable0.1.0"],
    );
    assert.deepEqual(ordered.floating.map((r) => r.tag), ["2.8.0-stackable0"]);
    assert.deepEqual(ordered.ignored.map((i) => i.tag), ["2.8.0_stackable0.1.0"]);
  });

  it("is consistent with the coordinates' order for generated tags (shuffled input, same output)", () => {
    const scheme = tagScheme("kafka");
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(productVersions, fc.option(rcs, { nil: undefined })), { maxLength: 12, selector: ([v, rc]) => `${v}/${rc}` }), fc.infiniteStream(fc.nat()), (entries, randoms) => {
        const tags = entries.map(([productVersion, rc]) => formatTag(scheme, rc === undefined ? { productVersion } : { productVersion, rc }));
        const shuffled = [...tags].sort(() => (randoms.next().value as number) % 3 - 1);
        const a = orderTags(scheme, tags).concrete;
        const b = orderTags(scheme, shuffled).concrete;
        assert.deepEqual(a.map((r) => r.tag), b.map((r) => r.tag));
        for (let i = 1; i < a.length; i++) assert.ok(compareImageCoordinates(a[i - 1]!.coordinates, a[i]!.coordinates) < 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe("newestImageVersion", () => {
  const stackable = tagScheme("stackable");
  const tags = ["2.8.0_stackable0.1.0", "2.8.0_stackable0.10.0", "2.8.0_stackable0.9.3", "2.8.0_stackable0.11.0-rc.1", "2.9.0_stackable0.12.0", "28.0_stackable9.0.0", "garbage", "2.8.0-stackable5.0.0"];

  it("picks the newest released image version of that product version only", () => {
    assert.deepEqual(newestImageVersion(stackable, tags, "2.8.0"), { tag: "2.8.0_stackable0.10.0", coordinates: { productVersion: "2.8.0", imageVersion: "0.10.0" } });
    assert.equal(newestImageVersion(stackable, tags, "2.9.0")?.tag, "2.9.0_stackable0.12.0");
    assert.equal(newestImageVersion(stackable, tags, "2.8.0", { includePrereleases: true })?.tag, "2.8.0_stackable0.11.0-rc.1");
    assert.equal(newestImageVersion(stackable, tags, "3.0.0"), undefined);
  });

  it("for kafka (no image version in the tag) picks the release over its candidates", () => {
    const kafka = tagScheme("kafka");
    assert.equal(newestImageVersion(kafka, ["3.7.0-rc0", "3.7.0", "3.7.0-rc1"], "3.7.0")?.tag, "3.7.0");
    assert.equal(newestImageVersion(kafka, ["3.7.0-rc0", "3.7.0-rc1"], "3.7.0"), undefined);
    assert.equal(newestImageVersion(kafka, ["3.7.0-rc0", "3.7.0-rc1"], "3.7.0", { includePrereleases: true })?.tag, "3.7.0-rc1");
  });

  it("refuses a product version that is not one", () => {
    assert.throws(() => newestImageVersion(stackable, tags, "2.8.x-1"), (e: unknown) => e instanceof ImagewrightError && e.kind === "invalid-input" && /"-" at character 6/.test(e.message));
  });

  it("agrees with the maximum of the generated image versions", () => {
    fc.assert(
      fc.property(productVersions, fc.uniqueArray(releasedImageVersions, { minLength: 1, maxLength: 10 }), (productVersion, versions) => {
        const generated = versions.map((imageVersion) => formatTag(stackable, { productVersion, imageVersion }));
        const newest = newestImageVersion(stackable, [...generated, "noise", `${productVersion}_other1.0.0`], productVersion);
        const expected = [...versions].sort((a, b) => {
          const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
          return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
        }).at(-1)!;
        assert.deepEqual(newest, { tag: `${productVersion}_stackable${expected}`, coordinates: { productVersion, imageVersion: expected } });
      }),
      { numRuns: 200 },
    );
  });
});

describe("resolveFloatingTag", () => {
  const legacy = tagScheme("stackable-legacy");
  const tags = ["2.8.0-stackable0.1.0", "2.8.0-stackable0.3.0", "2.8.0-stackable0.3.1-rc.1", "2.8.0-stackable1.0.0", "2.9.0-stackable0.4.0", "2.8.0-stackable0"];

  it("resolves the major-only tag to the newest release of that major", () => {
    assert.deepEqual(resolveFloatingTag(legacy, "2.8.0-stackable0", tags), { tag: "2.8.0-stackable0.3.0", coordinates: { productVersion: "2.8.0", imageVersion: "0.3.0" } });
    assert.equal(resolveFloatingTag(legacy, "2.8.0-stackable1", tags)?.tag, "2.8.0-stackable1.0.0");
    assert.equal(resolveFloatingTag(legacy, "2.8.0-stackable2", tags), undefined);
    assert.equal(resolveFloatingTag(legacy, "2.9.0-stackable0", tags)?.tag, "2.9.0-stackable0.4.0");
  });

  it("resolves a major.minor floating tag of a custom scheme", () => {
    const scheme = tagScheme({ registryTag: "{productVersion}-{imageVersion}", floatingTags: ["{productVersion}-{imageVersion.major}.{imageVersion.minor}"] });
    assert.equal(resolveFloatingTag(scheme, "3.7.0-1.2", ["3.7.0-1.2.0", "3.7.0-1.2.7", "3.7.0-1.3.0", "3.7.0-1.2.10"])?.tag, "3.7.0-1.2.10");
  });

  it("refuses a tag that is not floating", () => {
    assert.throws(() => resolveFloatingTag(legacy, "2.8.0-stackable0.1.0", tags), (e: unknown) => e instanceof ImagewrightError && /is a release tag, not a floating one/.test(e.message));
  });
});
