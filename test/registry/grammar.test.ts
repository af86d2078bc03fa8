// Inputs refused before any request: hosts, repository names, tags, digests,
// malformed manifests; and the pure parts of the protocol (challenges, scopes,
// Retry-After, backoff, which hosts may use plain HTTP).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import { MediaTypes } from "../../src/oci/model.ts";
import { checkHost, checkRepositoryName, checkTag, DEFAULT_RETRY_POLICY, digestOf, parseDigest, parseManifestReference, RegistryClient } from "../../src/registry/index.ts";
import { mergeScopes, parseChallenges } from "../../src/registry/auth.ts";
import { backoffMs, retryAfterMs } from "../../src/registry/retry.ts";
import { jsonErrorPlace, locateJsonError } from "../../src/registry/json.ts";
import { registryError } from "../../src/registry/errors.ts";

function invalid(input: RegExp, place?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ImagewrightError, String(error));
    assert.equal(error.kind, "invalid-input");
    assert.match(error.input ?? "", input);
    if (place !== undefined) assert.equal(error.place, place);
    return true;
  };
}

describe("names a registry request is built from", () => {
  it("accepts the distribution grammar", () => {
    for (const name of ["kafka", "org/kafka", "a/b/c", "my-org/kafka_native", "x.y/z__w", "a--b"]) assert.equal(checkRepositoryName(name), name);
    for (const tag of ["3.7.0", "latest", "3.7.0_stackable0.1.0", "_x", "A".repeat(128)]) assert.equal(checkTag(tag), tag);
    for (const host of ["registry.example.com", "127.0.0.1:5000", "[::1]:5000", "localhost"]) assert.equal(checkHost(host), host);
  });

  it("names the repository and the character that is wrong", () => {
    assert.throws(() => checkRepositoryName("Org/kafka"), invalid(/repository name "Org\/kafka"/, "character 1"));
    assert.throws(() => checkRepositoryName("org/ka fka"), invalid(/repository name/, "character 7"));
    assert.throws(() => checkRepositoryName("org//kafka"), invalid(/repository name/, "character 5"));
    assert.throws(() => checkRepositoryName("org/-kafka"), invalid(/repository name/, "character 5"));
    assert.throws(() => checkRepositoryName(""), invalid(/repository name ""/));
  });

  it("refuses malformed tags, digests and hosts", () => {
    assert.throws(() => checkTag(".hidden"), invalid(/tag "\.hidden"/, "character 1"));
    assert.throws(() => checkTag("3.7.0+build"), invalid(/tag/, "character 6"));
    assert.throws(() => checkTag("x".repeat(129)), invalid(/tag/, "character 129"));
    assert.throws(() => parseDigest("sha256:abc"), invalid(/digest "sha256:abc"/));
    assert.throws(() => parseDigest(`md5:${"a".repeat(32)}`), invalid(/digest/, "characters 1-3"));
    assert.throws(() => parseDigest(`sha256:${"A".repeat(64)}`), invalid(/digest/, "character 8"));
    assert.throws(() => parseManifestReference("sha256:xyz"), invalid(/digest "sha256:xyz"/));
    assert.throws(() => checkHost("https://registry.example.com"), invalid(/registry host/));
    assert.throws(() => checkHost("host:99999"), invalid(/registry host/));
    assert.throws(() => new RegistryClient({ env: {} }).repository("127.0.0.1:5000", "Kafka"), invalid(/repository name "Kafka"/));
  });

  it("refuses a bad reference before sending anything", async () => {
    const client = new RegistryClient({ env: {} });
    try {
      // Port 9 (discard) is never contacted: the reference is refused first.
      const repo = client.repository("127.0.0.1:9", "org/kafka");
      await assert.rejects(repo.resolve("bad tag"), invalid(/tag "bad tag"/, "character 4"));
      await assert.rejects(repo.getManifest("sha256:1234"), invalid(/digest "sha256:1234"/));
      await assert.rejects(repo.delete("-x"), invalid(/tag "-x"/));
    } finally {
      await client.close();
    }
  });

  it("refuses malformed manifests before pushing them, pointing at the place", async () => {
    const client = new RegistryClient({ env: {} });
    try {
      const repo = client.repository("127.0.0.1:9", "org/kafka");
      const push = (text: string, mediaType: string = MediaTypes.ociManifest) => repo.putManifest(Buffer.from(text), mediaType, "1");
      await assert.rejects(push('{"schemaVersion": 2,\n  "config": }'), (error: unknown) => {
        assert.ok(error instanceof ImagewrightError);
        assert.equal(error.kind, "invalid-input");
        assert.match(error.message, /manifest 127\.0\.0\.1:9\/org\/kafka:1 is not valid JSON/);
        assert.match(error.place ?? "", /^byte 33 \(line 2, column 13\)$/);
        return true;
      });
      await assert.rejects(push("[1,2]"), invalid(/manifest/, "$"));
      await assert.rejects(push('{"schemaVersion":1}'), invalid(/manifest/, "$.schemaVersion"));
      await assert.rejects(push(`{"schemaVersion":2,"mediaType":"${MediaTypes.ociIndex}","manifests":[]}`), invalid(/manifest/, "$.mediaType"));
      await assert.rejects(push('{"schemaVersion":2}', "not a media type"), invalid(/media type "not a media type"/));
    } finally {
      await client.close();
    }
  });
});

describe("protocol pieces", () => {
  it("parses WWW-Authenticate challenges, quoted and not, several in one header", () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/kafka:pull,push"'), [
      { scheme: "bearer", params: { realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:org/kafka:pull,push" } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="a \\"quoted\\" realm", Bearer realm=https://t/x, service=s'), [
      { scheme: "basic", params: { realm: 'a "quoted" realm' } },
      { scheme: "bearer", params: { realm: "https://t/x", service: "s" } },
    ]);
    assert.deepEqual(parseChallenges(""), []);
  });

  it("merges scopes per resource, actions sorted and unique", () => {
    assert.deepEqual(mergeScopes(["repository:a:push", "repository:a:pull", "repository:b:pull", "repository:a:pull"]), ["repository:a:pull,push", "repository:b:pull"]);
    assert.deepEqual(mergeScopes(["registry:catalog:*"]), ["registry:catalog:*"]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b/c"), fc.subarray(["pull", "push", "delete"], { minLength: 1 }))), (entries) => {
        const merged = mergeScopes(entries.map(([name, actions]) => `repository:${name}:${actions.join(",")}`));
        assert.deepEqual(mergeScopes(merged), merged); // idempotent
        for (const [name, actions] of entries) {
          const scope = merged.find((s) => s.startsWith(`repository:${name}:`));
          for (const action of actions) assert.ok(scope?.split(":")[2]?.split(",").includes(action));
        }
      }),
    );
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    assert.equal(retryAfterMs("3"), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(retryAfterMs("soon"), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });

  it("backs off exponentially within bounds, with jitter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const ceiling = Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1));
        const delay = backoffMs(DEFAULT_RETRY_POLICY, attempt, () => random);
        assert.ok(delay >= Math.floor(ceiling / 2) && delay <= ceiling, `${delay} for attempt ${attempt}`);
      }),
    );
  });

  it("uses TLS except for loopback and hosts named insecure", () => {
    const client = new RegistryClient({ env: { IMAGEWRIGHT_INSECURE_REGISTRIES: "build.lan:5000, other.lan" }, insecure: ["mirror.lan"] });
    const scheme = (host: string) => client.base(host).protocol;
    assert.equal(scheme("registry.example.com"), "https:");
    assert.equal(scheme("registry.example.com:5000"), "https:");
    assert.equal(scheme("127.0.0.1:5000"), "http:");
    assert.equal(scheme("127.1.2.3"), "http:");
    assert.equal(scheme("localhost:5000"), "http:");
    assert.equal(scheme("[::1]:5000"), "http:");
    assert.equal(scheme("build.lan:5000"), "http:");
    assert.equal(scheme("build.lan:5001"), "https:");
    assert.equal(scheme("other.lan:443"), "http:");
    assert.equal(scheme("mirror.lan"), "http:");
    assert.equal(scheme("128.0.0.1"), "https:");
    void client.close();
  });

  it("hashes with the digest's algorithm", () => {
    assert.equal(digestOf(Buffer.from("")), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.match(digestOf(Buffer.from(""), "sha512"), /^sha512:cf83e135/);
  });
});

describe("locating JSON errors", () => {
  it("agrees with JSON.parse on what is valid, and points inside the text when it is not", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const place = locateJsonError(text);
        assert.equal(place === undefined, valid, `text ${JSON.stringify(text)}`);
        if (place !== undefined) assert.ok(place.offset >= 0 && place.offset <= text.length);
      }),
      { numRuns: 500 },
    );
  });

  it("points at the first wrong character", () => {
    assert.deepEqual(locateJsonError('{"a": 1,}'), { offset: 8, line: 1, column: 9 });
    assert.deepEqual(locateJsonError('{\n  "a": tru\n}'), { offset: 12, line: 2, column: 11 });
    assert.deepEqual(locateJsonError('{"a": 1} x'), { offset: 9, line: 1, column: 10 });
    assert.deepEqual(locateJsonError('"unterminated'), { offset: 13, line: 1, column: 14 });
    // Bytes count UTF-8 (é is two), columns count characters.
    assert.equal(jsonErrorPlace('{"é": x}'), "byte 7 (line 1, column 7)");
  });
});

describe("registry errors", () => {
  const redactNothing = (text: string): string => text;
  it("maps error codes and statuses to kinds, quoting code, message and detail", () => {
    const cases: [number, string, string][] = [
      [404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}', "not-found"],
      [404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}', "not-found"],
      [400, '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}', "invalid-input"],
      [400, '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:abc"}]}', "invalid-input"],
      [400, '{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}', "invalid-input"],
      [403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', "invalid-input"],
      [405, '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}', "unavailable"],
      [429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', "unavailable"],
      [503, "<html>bad gateway</html>", "unavailable"],
      [409, "", "conflict"],
      [404, "404 page not found", "not-found"],
    ];
    for (const [status, body, kind] of cases) {
      const error = registryError("manifest r/x:1", status, body, redactNothing);
      assert.equal(error.kind, kind, `${status} ${body}`);
      assert.equal(error.input, "manifest r/x:1");
      assert.match(error.message, new RegExp(`HTTP ${status}`));
    }
    const detailed = registryError("manifest r/x:1", 400, cases[3]![1], redactNothing);
    assert.equal(detailed.message, "manifest r/x:1 refused (HTTP 400): MANIFEST_BLOB_UNKNOWN: blob unknown to registry (sha256:abc)");
    assert.equal(registryError("blob b", 404, "", redactNothing).message, "blob b not found (HTTP 404): no error body");
  });

  it("redacts what the server echoed", () => {
    const error = registryError("tags of r/x", 401, '{"errors":[{"code":"UNAUTHORIZED","message":"bad password hunter2"}]}', (t) => t.split("hunter2").join("***"));
    assert.ok(!error.message.includes("hunter2"));
    assert.match(error.message, /bad password \*\*\*/);
  });
});
