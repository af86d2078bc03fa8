// The OCI distribution tag grammar and git's ref-name rules, which every formatted tag obeys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import { checkGitTag, checkOciTag, isGitTag, isOciTag, OCI_TAG_PATTERN } from "../../src/versioning/index.ts";

describe("OCI tag grammar", () => {
  const valid = ["3.7.0", "2.8.0_stackable0.1.0", "_private", "latest", "A-b.c_d", "x".repeat(128), "1"];
  const invalid: Array<[string, string | undefined]> = [
    ["", undefined],
    [".hidden", "character 1"],
    ["-x", "character 1"],
    ["x".repeat(129), "character 129"],
    ["3.7.0+build", "character 6"],
    ["a/b", "character 2"],
    ["tag:x", "character 4"],
    ["ünïcode", "character 1"],
  ];
  for (const tag of valid) it(`accepts ${tag.slice(0, 20)}`, () => assert.equal(checkOciTag(tag), tag));
  for (const [tag, place] of invalid) {
    it(`refuses ${JSON.stringify(tag.slice(0, 20))}`, () => {
      assert.equal(isOciTag(tag), false);
      assert.throws(() => checkOciTag(tag), (e: unknown) => e instanceof ImagewrightError && e.kind === "invalid-input" && e.place === place);
    });
  }
  it("agrees with the spec's regular expression on arbitrary strings", () => {
    const spec = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 140 }), fc.string({ unit: fc.constantFrom(..."aZ09._-+/"), maxLength: 135 })), (tag) => {
        assert.equal(isOciTag(tag), spec.test(tag));
        assert.equal(OCI_TAG_PATTERN.test(tag), spec.test(tag));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("git tag names", () => {
  for (const name of ["kafka3.7.0_stackable0.1.0", "release/hbase/2.4.17/1.2.3", "3.7.0-rc0"]) {
    it(`accepts ${name}`, () => assert.equal(checkGitTag(name), name));
  }
  const invalid: Array<[string, RegExp]> = [
    ["", /is empty/],
    ["a..b", /contains "\.\."/],
    ["a@{b", /contains "@\{"/],
    ["a b", /" " at character 2/],
    ["a~1", /"~" at character 2/],
    ["a^", /"\^"/],
    ["a:b", /":"/],
    ["a?b", /"\?"/],
    ["a*b", /"\*"/],
    ["a[b", /"\["/],
    ["a\\b", /"\\\\"/],
    ["a.lock", /\.lock/],
    ["a/.b", /starting with "\."/],
    ["-a", /starts with "-"/],
    ["a/", /ends with "\/"/],
    ["a.", /ends with "\."/],
    ["a//b", /"\/\/"/],
    ["a\u0001b", /at character 2/],
  ];
  for (const [name, message] of invalid) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      assert.equal(isGitTag(name), false);
      assert.throws(() => checkGitTag(name), (e: unknown) => e instanceof ImagewrightError && e.kind === "invalid-input" && message.test(e.message));
    });
  }

  it("agrees with git check-ref-format (the real git) on generated names", async () => {
    const run = promisify(execFile);
    const gitAccepts = async (name: string): Promise<boolean> => {
      try {
        await run("git", ["check-ref-format", `refs/tags/${name}`]);
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === 1) return false;
        throw error; // git missing or broken: the test fails, it is not skipped
      }
    };
    const names = fc.sample(fc.string({ unit: fc.constantFrom(..."ab1.-_/@{}~^: *?[\\\u0001\u007fé"), minLength: 1, maxLength: 10 }), { numRuns: 300, seed: 42 });
    names.push("a.lock", "a/b.lock", "a.lock/b", "@", "x/.y", ".x", "x.", "a//b", "a@{1}");
    for (const name of names) {
      // git allows a leading "-" in a ref, but `git tag` cannot take it as a name.
      const expected = !name.startsWith("-") && (await gitAccepts(name));
      assert.equal(isGitTag(name), expected, `git tag name ${JSON.stringify(name)}`);
    }
  });
});
