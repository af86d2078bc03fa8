// `imagewright tag parse` and `imagewright tag format` through the real CLI process.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseJson, runCli } from "../support/cli.ts";

interface ErrorAnswer {
  error: { kind: string; message: string; input?: string; place?: string; exitCode: number };
}

describe("imagewright tag parse", () => {
  it("reads a stackable registry tag, as JSON", async () => {
    const result = await runCli(["tag", "parse", "2.8.0_stackable0.1.0", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(parseJson(result), {
      tag: "2.8.0_stackable0.1.0",
      git: false,
      scheme: "stackable",
      kind: "release",
      template: "{productVersion}_{vendor}{imageVersion}",
      coordinates: { productVersion: "2.8.0", imageVersion: "0.1.0" },
    });
  });

  it("reads a git tag with the products given, and names the registry tag it builds", async () => {
    const result = await runCli(["tag", "parse", "kafka-native3.7.0_stackable0.2.0", "--git", "--product", "kafka", "kafka-native", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const answer = parseJson<{ kind: string; coordinates: unknown; registryTag: string }>(result);
    assert.deepEqual(answer.coordinates, { productVersion: "3.7.0", product: "kafka-native", imageVersion: "0.2.0" });
    assert.equal(answer.registryTag, "3.7.0_stackable0.2.0");
  });

  it("shows a floating tag and an RC in a human table", async () => {
    const floating = await runCli(["tag", "parse", "2.8.0-stackable0", "--scheme", "stackable-legacy"]);
    assert.equal(floating.code, 0, floating.stderr);
    assert.match(floating.stdout, /^FIELD\s+VALUE$/m);
    assert.match(floating.stdout, /^kind\s+floating$/m);
    assert.match(floating.stdout, /^image major \(pinned\)\s+0$/m);
    const rc = await runCli(["tag", "parse", "3.7.0-rc0", "--scheme", "kafka"]);
    assert.equal(rc.code, 0, rc.stderr);
    assert.match(rc.stdout, /^kind\s+rc$/m);
    assert.match(rc.stdout, /^release candidate\s+0$/m);
  });

  it("reads with a custom template and vendor", async () => {
    const result = await runCli(["tag", "parse", "3.7.0-acme-1.2.0", "--template", "{productVersion}-{vendor}-{imageVersion}", "--vendor", "acme", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(parseJson<{ coordinates: unknown }>(result).coordinates, { productVersion: "3.7.0", imageVersion: "1.2.0" });
  });

  it("refuses a bad tag with exit 3 and the reason, in JSON", async () => {
    const result = await runCli(["tag", "parse", "2.8.0-stackable0.1.0", "--json"]);
    assert.equal(result.code, 3);
    const { error } = parseJson<ErrorAnswer>(result);
    assert.equal(error.kind, "invalid-input");
    assert.equal(error.input, 'tag "2.8.0-stackable0.1.0"');
    assert.equal(error.place, "character 6");
    assert.match(error.message, /at character 6 expected "_stackable", found "-stackable0\."/);
  });

  it("refuses a bad tag with exit 3 and the reason, for people", async () => {
    const result = await runCli(["tag", "parse", "3.7.0", "--vendor", "acme"]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /imagewright: tag "3.7.0" does not fit tag scheme stackable/);
    assert.match(result.stderr, /at:\s+character 6/);
    assert.equal(result.stdout, "");
  });

  it("refuses an ambiguous git tag with exit 3, listing the readings", async () => {
    const result = await runCli(["tag", "parse", "kafka12.0_stackable0.1.0", "--git", "--product", "kafka", "--product", "kafka1"]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /ambiguous.*\(1\) product=kafka, productVersion=12\.0.*\(2\) product=kafka1, productVersion=2\.0/);
  });

  it("refuses a template that cannot round-trip with exit 3", async () => {
    const result = await runCli(["tag", "parse", "3.7.00.1.0", "--template", "{productVersion}{imageVersion}", "--json"]);
    assert.equal(result.code, 3);
    assert.match(parseJson<ErrorAnswer>(result).error.message, /have nothing between them/);
  });

  it("refuses conflicting options with the usage exit code 2", async () => {
    const result = await runCli(["tag", "parse", "3.7.0", "--scheme", "kafka", "--template", "{productVersion}"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /either --scheme or --template/);
  });

  it("has examples in --help", async () => {
    const result = await runCli(["tag", "parse", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Examples:\n\s+imagewright tag parse 2\.8\.0_stackable0\.1\.0/);
  });
});

describe("imagewright tag format", () => {
  it("writes the registry tag, with floating tags, as JSON", async () => {
    const result = await runCli(["tag", "format", "--product", "kafka", "--product-version", "2.8.0", "--image-version", "0.1.0", "--scheme", "stackable-legacy", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(parseJson(result), {
      scheme: "stackable-legacy",
      git: false,
      tag: "2.8.0-stackable0.1.0",
      coordinates: { productVersion: "2.8.0", product: "kafka", imageVersion: "0.1.0" },
      floatingTags: ["2.8.0-stackable0"],
    });
  });

  it("writes the git tag alone on stdout for scripts", async () => {
    const result = await runCli(["tag", "format", "--product", "kafka", "--product-version", "3.7.0", "--image-version", "0.2.0", "--git"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "kafka3.7.0_stackable0.2.0\n");
  });

  it("writes a kafka release candidate tag", async () => {
    const result = await runCli(["tag", "format", "--product", "kafka", "--product-version", "3.7.0", "--rc", "1", "--scheme", "kafka"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "3.7.0-rc1\n");
  });

  it("uses the vendor word", async () => {
    const result = await runCli(["tag", "format", "--product-version", "403", "--image-version", "1.0.0", "--vendor", "acme"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "403_acme1.0.0\n");
  });

  it("refuses a bad image version with exit 3 naming it", async () => {
    const result = await runCli(["tag", "format", "--product-version", "3.7.0", "--image-version", "0.2", "--json"]);
    assert.equal(result.code, 3);
    const { error } = parseJson<ErrorAnswer>(result);
    assert.equal(error.input, 'image version "0.2"');
    assert.match(error.message, /not SemVer/);
  });

  it("refuses an RC where the scheme has none, and a bad --rc", async () => {
    const none = await runCli(["tag", "format", "--product-version", "3.7.0", "--image-version", "0.2.0", "--rc", "1"]);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /no release-candidate registry tag template/);
    const bad = await runCli(["tag", "format", "--product-version", "3.7.0", "--rc", "one", "--scheme", "kafka"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rc "one" is not a whole number/);
  });

  it("needs --product-version (usage, exit 2)", async () => {
    const result = await runCli(["tag", "format", "--image-version", "0.2.0"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--product-version/);
  });
});
