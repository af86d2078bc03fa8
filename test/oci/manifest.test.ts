import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ImagewrightError } from "../../src/errors/index.ts";
import {
  MediaTypes,
  formatPlatform,
  manifestBytes,
  parseConfig,
  parseManifest,
  parsePlatform,
  platformMatches,
  selectPlatforms,
  sha256,
} from "../../src/oci/index.ts";
import type { Descriptor, ImageIndex } from "../../src/oci/index.ts";

const D = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

function refused(fn: () => unknown, place: string, message: RegExp, input = "doc"): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ImagewrightError, String(error));
    assert.equal(error.kind, "invalid-input");
    assert.equal(error.input, input);
    assert.equal(error.place, place);
    assert.match(error.message, message);
    return true;
  });
}

const goodManifest = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  config: { mediaType: MediaTypes.ociConfig, digest: D(1), size: 10 },
  layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: D(2), size: 20 }],
};

describe("manifest validation", () => {
  it("reads OCI and Docker manifests and indexes", () => {
    const image = parseManifest(encode(goodManifest), "doc");
    assert.equal(image.kind, "image");
    assert.equal(image.mediaType, MediaTypes.ociManifest);
    const docker = parseManifest(encode({ ...goodManifest, mediaType: MediaTypes.dockerManifest }), "doc");
    assert.equal(docker.mediaType, MediaTypes.dockerManifest);
    const list = parseManifest(encode({ schemaVersion: 2, mediaType: MediaTypes.dockerManifestList, manifests: [{ mediaType: MediaTypes.dockerManifest, digest: D(3), size: 5, platform: { os: "linux", architecture: "amd64" } }] }), "doc");
    assert.equal(list.kind, "index");
    // No mediaType field: what the registry said decides, else the shape.
    assert.equal(parseManifest(encode({ schemaVersion: 2, manifests: [] }), "doc").kind, "index");
    assert.equal(parseManifest(encode({ ...goodManifest, mediaType: undefined }), "doc", MediaTypes.dockerManifest).mediaType, MediaTypes.dockerManifest);
  });

  it("names the JSON path of a bad field", () => {
    refused(() => parseManifest(encode({ ...goodManifest, layers: [goodManifest.layers[0], { mediaType: "x", digest: "sha256:nothex", size: 1 }] }), "doc"), "$.layers[1].digest", /not a valid digest/);
    refused(() => parseManifest(encode({ ...goodManifest, config: { mediaType: MediaTypes.ociConfig, digest: D(1), size: -1 } }), "doc"), "$.config.size", /image manifest/);
    refused(() => parseManifest(encode({ ...goodManifest, config: undefined }), "doc"), "$.config", /required/);
    refused(() => parseManifest(encode({ ...goodManifest, schemaVersion: 3 }), "doc"), "$.schemaVersion", /invalid/);
    refused(() => parseManifest(encode({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ mediaType: MediaTypes.ociManifest, digest: D(1), size: 1, platform: { os: "linux" } }] }), "doc"), "$.manifests[0].platform.architecture", /index/);
    refused(() => parseManifest(encode({ ...goodManifest, annotations: { a: 1 } }), "doc"), '$.annotations.a', /string/);
  });

  it("refuses a manifest served as something it says it is not", () => {
    refused(() => parseManifest(encode(goodManifest), "doc", MediaTypes.ociIndex), "$.mediaType", /served as/);
    refused(() => parseManifest(encode({ ...goodManifest, mediaType: "application/x-nonsense" }), "doc"), "$.mediaType", /unknown manifest mediaType/);
  });

  it("refuses schema 1, broken JSON (at its byte), non-objects and oversized manifests", () => {
    refused(() => parseManifest(encode({ schemaVersion: 1, fsLayers: [] }), "doc"), "$.schemaVersion", /schema 1/);
    refused(() => parseManifest(encode('{"schemaVersion": 2,, }'), "doc"), "byte 20", /not valid JSON/);
    refused(() => parseManifest(encode("[1,2]"), "doc"), "$", /JSON object/);
    refused(() => parseManifest(new Uint8Array(4 * 1024 * 1024 + 1), "doc"), `byte ${4 * 1024 * 1024}`, /limit/);
  });

  it("reads image configs and names what is wrong in them", () => {
    const config = { architecture: "amd64", os: "linux", config: { Env: ["A=1"], Cmd: null }, rootfs: { type: "layers", diff_ids: [D(9)] } };
    assert.equal(parseConfig(encode(config), "cfg").os, "linux");
    refused(() => parseConfig(encode({ ...config, rootfs: { type: "layers", diff_ids: ["nope"] } }), "cfg"), "$.rootfs.diff_ids[0]", /digest/, "cfg");
    refused(() => parseConfig(encode({ ...config, os: "" }), "cfg"), "$.os", /config/, "cfg");
  });

  it("answers any bytes with a manifest or an ImagewrightError (fuzz)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.constant(JSON.stringify(goodManifest)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n)))), (text) => {
        try {
          parseManifest(encode(text), "doc");
        } catch (error) {
          assert.ok(error instanceof ImagewrightError, `${text} threw ${String(error)}`);
          assert.equal(error.input, "doc");
          assert.ok(error.place !== undefined);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("platforms", () => {
  it("parses and formats os/arch[/variant]", () => {
    assert.deepEqual(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64", variant: "v8" });
    assert.equal(formatPlatform(parsePlatform("linux/amd64")), "linux/amd64");
  });

  it("refuses malformed platforms at their column", () => {
    for (const [text, place] of [["linux", "column 1"], ["linux//v8", "column 7"], ["linux/AMD64", "column 7"], ["a/b/c/d", "column 1"]] as const) {
      assert.throws(() => parsePlatform(text), (e: unknown) => e instanceof ImagewrightError && e.kind === "invalid-input" && e.place === place && e.input === `platform "${text}"`);
    }
  });

  it("matches the way engines do: default variants and aliases", () => {
    const p = parsePlatform;
    assert.ok(platformMatches(p("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" }));
    assert.ok(platformMatches(p("linux/arm64/v8"), { os: "linux", architecture: "arm64" }));
    assert.ok(platformMatches(p("linux/x86_64"), { os: "linux", architecture: "amd64" }));
    assert.ok(platformMatches(p("linux/arm"), { os: "linux", architecture: "arm", variant: "v6" }));
    assert.ok(!platformMatches(p("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v6" }));
    assert.ok(!platformMatches(p("linux/amd64"), { os: "linux", architecture: "arm64" }));
    assert.ok(!platformMatches(p("windows/amd64"), { os: "linux", architecture: "amd64" }));
  });
});

describe("platform selection", () => {
  const amd: Descriptor = { mediaType: MediaTypes.ociManifest, digest: D(1), size: 1, platform: { os: "linux", architecture: "amd64" } };
  const arm: Descriptor = { mediaType: MediaTypes.ociManifest, digest: D(2), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } };
  const attest = (of: Descriptor, n: number): Descriptor => ({
    mediaType: MediaTypes.ociManifest,
    digest: D(n),
    size: 1,
    platform: { os: "unknown", architecture: "unknown" },
    annotations: { "vnd.docker.reference.digest": of.digest, "vnd.docker.reference.type": "attestation-manifest" },
  });
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [amd, arm, attest(amd, 3), attest(arm, 4)], annotations: { keep: "me" } };
  const bytes = manifestBytes(index);

  it("keeps everything, bytes and digest included, when no platform is asked for", () => {
    const all = selectPlatforms(index, bytes, [], "src");
    assert.equal(all.changed, false);
    assert.equal(all.bytes, bytes);
    assert.equal(all.kept.length, 4);
  });

  it("makes a new index with the chosen images and their attestations, and says what it dropped", () => {
    const some = selectPlatforms(index, bytes, [parsePlatform("linux/arm64")], "src");
    assert.equal(some.changed, true);
    assert.deepEqual(some.kept.map((d) => d.digest), [arm.digest, D(4)]);
    assert.deepEqual(some.dropped.map((d) => [d.descriptor.digest, d.reason]), [
      [amd.digest, "platform not selected"],
      [D(3), "it attests an image that was not selected"],
    ]);
    assert.notEqual(sha256(some.bytes), sha256(bytes));
    const reread = parseManifest(some.bytes, "new");
    assert.equal(reread.kind, "index");
    assert.deepEqual(reread.kind === "index" ? reread.index.annotations : undefined, { keep: "me" });
  });

  it("selecting every platform keeps the original index", () => {
    const both = selectPlatforms(index, bytes, [parsePlatform("linux/amd64"), parsePlatform("linux/arm64/v8")], "src");
    assert.equal(both.changed, false);
    assert.equal(both.bytes, bytes);
  });

  it("refuses a platform the index does not have, listing those it has", () => {
    assert.throws(
      () => selectPlatforms(index, bytes, [parsePlatform("linux/s390x")], "src"),
      (e: unknown) => e instanceof ImagewrightError && e.kind === "not-found" && /linux\/amd64, linux\/arm64\/v8/.test(e.hint ?? ""),
    );
  });
});
