import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseJson, runCli } from "../support/cli.ts";
import { tempCatalog } from "./temp-catalog.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));

describe("imagewright catalog validate", () => {
  it("accepts the example catalog", async () => {
    const result = await runCli(["catalog", "validate", "--catalog", EXAMPLE]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /is valid: 4 images, 7 product versions/);
  });

  it("answers JSON with --json", async () => {
    const result = await runCli(["catalog", "validate", "--catalog", EXAMPLE, "--json"]);
    assert.deepEqual(parseJson(result), { valid: true, catalog: EXAMPLE, images: 4, versions: 7 });
  });

  it("reads the catalog from IMAGEWRIGHT_CATALOG, else the working directory", async () => {
    const fromEnv = await runCli(["catalog", "validate", "--json"], { env: { IMAGEWRIGHT_CATALOG: EXAMPLE } });
    assert.equal(parseJson<{ catalog: string }>(fromEnv).catalog, EXAMPLE);
    const fromCwd = await runCli(["catalog", "validate", "--json"], { cwd: EXAMPLE, env: { IMAGEWRIGHT_CATALOG: "" } });
    assert.equal(parseJson<{ catalog: string }>(fromCwd).catalog, EXAMPLE);
  });

  it("exits 3 for an invalid catalog, naming file, line and column", async (t) => {
    const root = tempCatalog(t, { "images/app/image.yaml": "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n    platfroms: [linux/amd64]\n" });
    const result = await runCli(["catalog", "validate", "--catalog", root]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /unknown key "platfroms" \(did you mean "platforms"\?\)/);
    assert.match(result.stderr, /at: +.*images\/app\/image\.yaml:5:5/);
  });

  it("lists every problem in --json", async (t) => {
    const root = tempCatalog(t, { "images/app/image.yaml": "kind: thing\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 1.0\n" });
    const result = await runCli(["catalog", "validate", "--catalog", root, "--json"]);
    assert.equal(result.code, 3);
    const { error } = parseJson<{ error: { kind: string; exitCode: number; problems: Array<{ path: string; line: number; column: number }> } }>(result);
    assert.equal(error.kind, "invalid-input");
    assert.equal(error.exitCode, 3);
    assert.deepEqual(
      error.problems.map((p) => [p.path, p.line, p.column]),
      [
        ["kind", 1, 7],
        ["versions[0].imageVersion", 4, 19],
      ],
    );
  });

  it("exits 5 for a dependency cycle, showing it", async (t) => {
    const root = tempCatalog(t, {
      "images/base/image.yaml": 'kind: base\nversions:\n  - productVersion: "12"\n    imageVersion: 0.1.0\n    dependencies:\n      app: 1.0.0\n',
    });
    const result = await runCli(["catalog", "validate", "--catalog", root]);
    assert.equal(result.code, 5);
    assert.match(result.stderr, /dependency cycle: app 1\.0\.0 → base 12 → app 1\.0\.0/);
  });

  it("exits 4 when there is no catalog", async (t) => {
    const root = tempCatalog(t, { "imagewright.yaml": null });
    const result = await runCli(["catalog", "validate", "--catalog", root]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /no catalog: .*imagewright\.yaml does not exist/);
    assert.match(result.stderr, /hint: +pass --catalog/);
  });
});

describe("imagewright catalog list", () => {
  it("shows a table of image, product version, image version, tag, status and platforms", async () => {
    const result = await runCli(["catalog", "list", "--catalog", EXAMPLE]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^IMAGE +PRODUCT VERSION +IMAGE VERSION +TAG +STATUS +PLATFORMS$/);
    assert.equal(lines.length, 8);
    assert.match(result.stdout, /kafka +3\.9\.1 +0\.2\.0 +3\.9\.1_stackable0\.2\.0 +supported \(end of life 2026-12-31\) +linux\/amd64/);
    assert.match(result.stdout, /kafka-native +4\.1\.0 +0\.1\.0 +4\.1\.0_stackable0\.1\.0 +supported +linux\/amd64/);
  });

  it("answers rows with references, git tags and dependencies in --json", async (t) => {
    const root = tempCatalog(t);
    const result = await runCli(["catalog", "list", "--catalog", root, "--image", "app", "--json"]);
    const { versions } = parseJson<{ versions: Array<Record<string, unknown>> }>(result);
    assert.deepEqual(versions, [
      {
        image: "app",
        kind: "product",
        productVersion: "1.0.0",
        imageVersion: "0.1.0",
        tag: "1.0.0_stackable0.1.0",
        floatingTags: [],
        reference: "127.0.0.1:5000/test/app:1.0.0_stackable0.1.0",
        gitTag: "app1.0.0_stackable0.1.0",
        status: "supported",
        platforms: ["linux/amd64"],
        dependencies: ["base=12"],
        testSuite: "kafka",
        dockerfile: "images/app/Dockerfile",
      },
    ]);
  });

  it("exits 4 for an unknown --image", async () => {
    const result = await runCli(["catalog", "list", "--catalog", EXAMPLE, "--image", "zookeeper"]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /no image "zookeeper"/);
  });

  it("shows floating tags of the stackable-legacy scheme", async (t) => {
    const root = tempCatalog(t, {
      "imagewright.yaml": "registry: 127.0.0.1:5000\nnamespace: test\nvendor: acme\ntagScheme: stackable-legacy\nplatforms: [linux/amd64]\n",
    });
    const result = await runCli(["catalog", "list", "--catalog", root, "--image", "app", "--json"]);
    const { versions } = parseJson<{ versions: Array<{ tag: string; floatingTags: string[]; gitTag: string }> }>(result);
    assert.deepEqual(versions.map((v) => [v.tag, v.floatingTags, v.gitTag]), [["1.0.0-acme0.1.0", ["1.0.0-acme0"], "app1.0.0-acme0.1.0"]]);
  });

  it("shows examples in --help", async () => {
    const result = await runCli(["catalog", "list", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Examples:\n +imagewright catalog list --catalog examples\/catalog/);
  });
});
