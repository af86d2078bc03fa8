// The image commands as users run them: the real CLI against a real registry.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { OciLayout } from "../../src/oci/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";
import type { GeneratedIndex } from "./images.ts";
import { writeIndex } from "./images.ts";

describe("imagewright ls, inspect, digest, copy, tag", () => {
  let dir: string;
  let registry: TestRegistry;
  let generated: GeneratedIndex;
  let repo: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-cli-"));
    registry = await startRegistry({ ports: [15100, 15199] });
    generated = await writeIndex(await OciLayout.open(join(dir, "origin"), { create: true }), { tag: "3.7.0", attestations: true, layerSizes: [100_000, 2000] });
    repo = `${registry.host}/org/kafka`;
  });
  after(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("copy pushes a layout to a registry, with progress on stderr and a summary on stdout", async () => {
    const result = await runCli(["copy", `oci:${join(dir, "origin")}:3.7.0`, `${repo}:3.7.0-rc1`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /copying oci:.* → 127\.0\.0\.1:\d+\/org\/kafka:3\.7\.0-rc1/);
    assert.match(result.stderr, /5 manifest\(s\), 10 blob\(s\)/);
    assert.match(result.stderr, /manifest sha256:\w+ tagged 3\.7\.0-rc1/);
    assert.match(result.stdout, new RegExp(`digest +${generated.descriptor.digest}`));
    assert.match(result.stdout, /10 copied/);
  });

  it("copy --json answers one document, and --platform makes a new index", async () => {
    const result = await runCli(["--json", "copy", `${repo}:3.7.0-rc1`, `${repo}-arm:3.7.0`, "--platform", "linux/arm64"]);
    assert.equal(result.code, 0, result.stderr);
    const answer = parseJson<{ descriptor: { digest: string }; digestChanged: boolean; notes: string[]; bytesMounted: number; bytesCopied: number }>(result);
    assert.equal(answer.digestChanged, true);
    assert.ok(answer.notes.some((n) => /dropped linux\/amd64/.test(n)));
    // Same registry, another repository: the blobs are mounted, not uploaded.
    assert.equal(answer.bytesCopied, 0);
    assert.ok(answer.bytesMounted > 100_000);
    assert.equal(result.stderr, "");
  });

  it("ls lists tags; digest prints the digest", async () => {
    const ls = await runCli(["ls", repo]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(ls.stdout.trim().split("\n"), ["3.7.0-rc1"]);
    const lsJson = parseJson<{ repository: string; tags: string[] }>(await runCli(["--json", "ls", repo]));
    assert.deepEqual(lsJson, { repository: repo, tags: ["3.7.0-rc1"] });
    const digest = await runCli(["digest", `${repo}:3.7.0-rc1`]);
    assert.equal(digest.stdout.trim(), generated.descriptor.digest);
    const digestJson = parseJson<{ digest: string; mediaType: string }>(await runCli(["--json", "digest", `${repo}:3.7.0-rc1`]));
    assert.equal(digestJson.mediaType, "application/vnd.oci.image.index.v1+json");
    const bad = await runCli(["ls", `${repo}:3.7.0-rc1`]);
    assert.equal(bad.code, 2);
  });

  it("inspect shows platforms, and with --platform the image: layers, sizes, config", async () => {
    const human = await runCli(["inspect", `${repo}:3.7.0-rc1`, "--platform", "linux/amd64"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /linux\/amd64 +sha256:/);
    assert.match(human.stdout, /attestation for sha256:/);
    assert.match(human.stdout, /entrypoint +\["\/opt\/kafka\/bin\/kafka-server-start\.sh"\]/);
    assert.match(human.stdout, /ports +9092\/tcp/);
    assert.match(human.stdout, /LAYER +DIGEST +SIZE +MEDIA TYPE/);
    const json = parseJson<{ kind: string; platforms: { platform: string; attestation: boolean }[]; image: { platform: string; layers: { size: number }[]; size: number; config: { user: string } } }>(
      await runCli(["--json", "inspect", `${repo}:3.7.0-rc1`, "--platform", "linux/arm64"]),
    );
    assert.equal(json.kind, "index");
    assert.deepEqual(json.platforms.map((p) => [p.platform.slice(0, 15), p.attestation]), [["linux/amd64", false], ["linux/arm64/v8", false], ["attestation for", true], ["attestation for", true]]);
    assert.equal(json.image.platform, "linux/arm64/v8");
    assert.equal(json.image.layers.length, 2);
    assert.equal(json.image.config.user, "1000");
  });

  it("tag points a new tag at an image, refuses to move an existing one without --force, and tag parse still works", async () => {
    const tagged = parseJson<{ tag: string; digest: string }>(await runCli(["--json", "tag", `${repo}:3.7.0-rc1`, "3.7.0"]));
    assert.equal(tagged.digest, generated.descriptor.digest);
    assert.equal((await runCli(["digest", `${repo}:3.7.0`])).stdout.trim(), generated.descriptor.digest);
    const arm = (await runCli(["digest", `${repo}-arm:3.7.0`])).stdout.trim();
    await runCli(["copy", `${repo}-arm:3.7.0`, `${repo}:arm`]);
    const refused = await runCli(["--json", "tag", `${repo}:arm`, "3.7.0"]);
    assert.equal(refused.code, 5);
    assert.match(parseJson<{ error: { message: string } }>(refused).error.message, /already points at/);
    const forced = await runCli(["tag", `${repo}:arm`, "3.7.0", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /was sha256:/);
    assert.equal((await runCli(["digest", `${repo}:3.7.0`])).stdout.trim(), arm);
    const parse = await runCli(["--json", "tag", "parse", "3.7.0_stackable0.2.0"]);
    assert.equal(parse.code, 0, parse.stderr);
    assert.equal(parseJson<{ coordinates: { productVersion: string } }>(parse).coordinates.productVersion, "3.7.0");
    const badTag = await runCli(["tag", `${repo}:3.7.0`, "-bad"]);
    assert.notEqual(badTag.code, 0);
  });

  it("answers bad references and missing images with the documented exit codes", async () => {
    const malformed = await runCli(["--json", "digest", "127.0.0.1:5000/Org/kafka"]);
    assert.equal(malformed.code, 3);
    const error = parseJson<{ error: { kind: string; input: string; place: string } }>(malformed).error;
    assert.deepEqual([error.kind, error.input, error.place], ["invalid-input", 'reference "127.0.0.1:5000/Org/kafka"', "column 16"]);
    const human = await runCli(["inspect", "oci:/nonexistent/layout"]);
    assert.equal(human.code, 4);
    assert.match(human.stderr, /no OCI image layout/);
    const missing = await runCli(["digest", `${repo}:no-such-tag`]);
    assert.equal(missing.code, 4, missing.stderr);
    const platform = await runCli(["copy", `${repo}:3.7.0-rc1`, `oci:${join(dir, "x")}`, "--platform", "linux"]);
    assert.equal(platform.code, 3);
    assert.match(platform.stderr, /platform "linux"/);
  });
});
