import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import { formatReference, parseReference } from "../../src/oci/index.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("image references", () => {
  const valid: [string, string][] = [
    ["kafka", "docker.io/library/kafka"],
    ["kafka:3.7.0", "docker.io/library/kafka:3.7.0"],
    ["apache/kafka:3.7.0", "docker.io/apache/kafka:3.7.0"],
    ["index.docker.io/apache/kafka", "docker.io/apache/kafka"],
    ["docker://kafka:1", "docker.io/library/kafka:1"],
    ["localhost:5000/org/kafka:3.7.0", "localhost:5000/org/kafka:3.7.0"],
    ["localhost/kafka", "localhost/kafka"],
    ["127.0.0.1:5000/org/sub/kafka-native:3.7.0_stackable0.2.0", "127.0.0.1:5000/org/sub/kafka-native:3.7.0_stackable0.2.0"],
    [`127.0.0.1:5000/org/kafka@${DIGEST}`, `127.0.0.1:5000/org/kafka@${DIGEST}`],
    [`127.0.0.1:5000/org/kafka:3.7.0@${DIGEST}`, `127.0.0.1:5000/org/kafka:3.7.0@${DIGEST}`],
    ["[::1]:5000/kafka:1", "[::1]:5000/kafka:1"],
    ["registry.example.com/a__b/c.d/e-f:tag_1.x-y", "registry.example.com/a__b/c.d/e-f:tag_1.x-y"],
    ["oci:/tmp/layout", "oci:/tmp/layout"],
    ["oci:/tmp/layout:3.7.0", "oci:/tmp/layout:3.7.0"],
    ["oci:relative/dir:latest", "oci:relative/dir:latest"],
    ["docker-archive:/tmp/kafka.tar", "docker-archive:/tmp/kafka.tar"],
    ["docker-archive:/tmp/kafka.tar:kafka:3.7.0", "docker-archive:/tmp/kafka.tar:kafka:3.7.0"],
    ["docker-archive:k.tar:localhost:5000/org/kafka:1", "docker-archive:k.tar:localhost:5000/org/kafka:1"],
  ];
  for (const [text, canonical] of valid) {
    it(`reads ${text}`, () => {
      assert.equal(formatReference(parseReference(text)), canonical);
    });
  }

  it("keeps both tag and digest of tag@digest, and the parts of a registry reference", () => {
    assert.deepEqual(parseReference(`localhost:5000/org/kafka:3.7.0@${DIGEST}`), {
      transport: "registry",
      registry: "localhost:5000",
      repository: "org/kafka",
      tag: "3.7.0",
      digest: DIGEST,
    });
  });

  const invalid: [string, string, RegExp][] = [
    ["", "column 1", /empty reference/],
    ["Kafka", "column 1", /invalid path component "Kafka"/],
    ["localhost:5000/Org/kafka", "column 16", /"Org"/],
    ["kafka:.bad", "column 7", /tag "\.bad"/],
    ["kafka:", "column 7", /tag ""/],
    ["kafka@sha256:abc", "column 17", /sha256 needs 64/],
    ["kafka@md5:abc", "column 7", /not a digest/],
    [`kafka@sha256:${"A".repeat(64)}`, "column 14", /"A"/],
    ["a//b", "column 3", /component ""/],
    ["localhost:99999/x", "column 1", /host/],
    ["ftp://host/x", "column 1", /unknown transport/],
    ["oci:", "column 5", /needs a directory/],
    ["oci:/tmp/x:-tag", "column 12", /tag "-tag"/],
    ["docker-archive:", "column 16", /needs a file path/],
    ["docker-archive:/x.tar:Bad", "column 23", /"Bad"/],
    [`docker-archive:/x.tar:kafka@${DIGEST}`, "column 28", /cannot carry a digest/],
    [`kafka:${"t".repeat(129)}`, "column 135", /tag/],
  ];
  for (const [text, place, message] of invalid) {
    it(`refuses ${JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text)} at ${place}`, () => {
      assert.throws(
        () => parseReference(text),
        (error: unknown) => {
          assert.ok(error instanceof ImagewrightError, String(error));
          assert.equal(error.kind, "invalid-input");
          assert.equal(error.input, `reference "${text}"`);
          assert.equal(error.place, place);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it("answers any text with a reference or an ImagewrightError naming it (fuzz)", () => {
    const alphabet = fc.constantFrom(..."abcAZ09:/@._-+ []~%".split(""), "sha256:", "oci:", "docker-archive:", "docker://", "localhost:5000/");
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 30 }).map((parts) => parts.join(""))), (text) => {
        try {
          parseReference(text);
        } catch (error) {
          assert.ok(error instanceof ImagewrightError, `${JSON.stringify(text)} threw ${String(error)}`);
          assert.equal(error.kind, "invalid-input");
          assert.equal(error.input, `reference "${text}"`);
          assert.match(error.place ?? "", /^column \d+$/);
          const column = Number(error.place!.slice(7));
          assert.ok(column >= 1 && column <= text.length + 1, `column ${column} outside ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("reads back what it formats (generated registry references)", () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)?$/, { maxLength: 12 });
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    fc.assert(
      fc.property(fc.constantFrom("127.0.0.1:5000", "registry.example.com", "localhost:15100"), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(tag, { nil: undefined }), (host, path, t) => {
        const text = `${host}/${path.join("/")}${t === undefined ? "" : `:${t}`}`;
        const parsed = parseReference(text);
        assert.equal(formatReference(parsed), text);
        assert.deepEqual(parseReference(formatReference(parsed)), parsed);
      }),
    );
  });
});
