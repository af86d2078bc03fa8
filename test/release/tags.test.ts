// Candidate and release tags under each preset scheme (both ways), checksum files in
// both of Apache's formats, and malformed inputs named with their place.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CatalogVersion } from "../../src/catalog/index.ts";
import type { ImagewrightError } from "../../src/errors/index.ts";
import { candidateTag, parseArtifactUrl, parseRecord, publishedSha512, readCandidateTag, releaseTags, requireCandidateTag } from "../../src/release/index.ts";
import { tagScheme } from "../../src/versioning/index.ts";

const version = { image: "kafka", productVersion: "4.1.0", imageVersion: "0.1.0" } as CatalogVersion;

describe("candidate tags", () => {
  const cases: [string, string, string, string[]][] = [
    ["kafka", "4.1.0-rc1", "4.1.0", []],
    ["stackable", "4.1.0_stackable0.1.0-rc1", "4.1.0_stackable0.1.0", []],
    ["stackable-legacy", "4.1.0-stackable0.1.0-rc1", "4.1.0-stackable0.1.0", ["4.1.0-stackable0"]],
  ];
  for (const [scheme, rcTag, release, floating] of cases) {
    it(`${scheme}: ${rcTag} ↔ rc 1 of ${release}`, () => {
      const s = tagScheme(scheme);
      assert.equal(candidateTag(s, version, 1), rcTag);
      const reading = readCandidateTag(s, rcTag);
      assert.equal(reading?.rc, 1);
      assert.deepEqual(releaseTags(s, { ...reading.release, product: "kafka" }), { tag: release, floating });
      assert.equal(readCandidateTag(s, release), undefined, "a release is not a candidate");
    });
  }

  it("a tag that is no candidate is invalid input with the scheme's form in the hint", () => {
    assert.throws(
      () => requireCandidateTag(tagScheme("stackable"), "4.1.0_stackable0.1.0"),
      (error: ImagewrightError) => error.kind === "invalid-input" && error.input === "rc tag 4.1.0_stackable0.1.0" && /-rc<N>/.test(error.hint ?? ""),
    );
    assert.throws(() => requireCandidateTag(tagScheme("kafka"), "4.1.0-beta"), (error: ImagewrightError) => /rc\{rc\}/.test(error.hint ?? ""));
  });
});

describe("checksum files and URLs", () => {
  const hex = "0123456789abcdef".repeat(8);

  it("reads sha512sum's and gpg --print-md's layouts", () => {
    assert.equal(publishedSha512(`${hex}  kafka_2.13-4.1.0.tgz\n`, "f"), hex);
    const grouped = hex.toUpperCase().match(/.{8}/g)!;
    const gpg = `kafka_2.13-4.1.0.tgz: ${grouped.slice(0, 8).join(" ")}\n                      ${grouped.slice(8).join(" ")}\n`;
    assert.equal(publishedSha512(gpg, "f"), hex);
  });

  it("refuses a file without a SHA-512, naming it", () => {
    assert.throws(() => publishedSha512("<html>not found</html>", "checksum file http://x/y.sha512"), (error: ImagewrightError) => error.kind === "invalid-input" && error.input === "checksum file http://x/y.sha512");
    assert.throws(() => publishedSha512(`${hex.slice(2)}  f.tgz`, "c"), (error: ImagewrightError) => error.place === "the first word");
  });

  it("refuses URLs that are not http(s)", () => {
    assert.throws(() => parseArtifactUrl("file:///etc/passwd", "--artifact-url"), (error: ImagewrightError) => error.kind === "invalid-input" && error.place === "characters 1-5");
    assert.throws(() => parseArtifactUrl("not a url", "--artifact-url"), (error: ImagewrightError) => error.input === "--artifact-url not a url");
  });
});

describe("release records", () => {
  it("a malformed record is invalid input at its JSON path or byte", () => {
    assert.throws(() => parseRecord('{"kind": "imagewright/release-record", "version": 1, "type": "candidate"}', "record r"), (error: ImagewrightError) => error.kind === "invalid-input" && error.place === "$.createdAt");
    assert.throws(() => parseRecord('{"kind": ', "record r"), (error: ImagewrightError) => error.kind === "invalid-input" && /^byte \d+|end of input/.test(error.place ?? ""));
  });
});
