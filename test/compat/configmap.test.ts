import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { parseJson, runCli } from "../support/cli.ts";
import { configMapFor, isMatrixError, loadMatrix, parseMatrixSource, readMatrixText } from "./imports.ts";
import type { Matrix } from "./imports.ts";
import { mountConfigMap } from "./kubelet.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

const matrix = parseMatrixSource(KAFKA_MATRIX, { name: "matrix.yaml" });

function sameRules(a: Matrix, b: Matrix): void {
  const strip = (m: Matrix): unknown => m.rules.map(({ position: _position, ...rule }) => rule);
  assert.deepEqual(strip(a), strip(b));
  assert.deepEqual(a.settings, b.settings);
  assert.equal(a.digest, b.digest);
}

describe("ConfigMap round trip", () => {
  it("writes a v1 ConfigMap whose data.matrix.yaml is the source verbatim, comments included", () => {
    const text = configMapFor(matrix, { name: "kafka-compat", namespace: "kafka" });
    const object = parse(text) as { apiVersion: string; kind: string; metadata: Record<string, unknown>; data: Record<string, string> };
    assert.equal(object.apiVersion, "v1");
    assert.equal(object.kind, "ConfigMap");
    assert.equal(object.metadata.name, "kafka-compat");
    assert.equal(object.metadata.namespace, "kafka");
    assert.deepEqual(Object.keys(object.data), ["matrix.yaml"]);
    assert.equal(object.data["matrix.yaml"], KAFKA_MATRIX);
    assert.match(text, /matrix\.yaml: \|\n {4}apiVersion: imagewright\.dev\/v1\n/);
  });

  it("reads back the same matrix, with rule places in the ConfigMap file", () => {
    const back = readMatrixText(configMapFor(matrix), "cm.yaml");
    sameRules(back, matrix);
    // Rule 1 is at line 8 of the source; the data block starts after line 12 of the ConfigMap, indented by 4.
    assert.deepEqual(back.rules[0]?.position, { file: "cm.yaml", line: 20, column: 9, embedded: { key: "matrix.yaml", line: 8, column: 5 } });
  });

  it("refuses a matrix larger than a ConfigMap can hold", () => {
    const big = parseMatrixSource(KAFKA_MATRIX + "# " + "x".repeat(1024 * 1024) + "\n", { name: "big.yaml" });
    assert.throws(() => configMapFor(big), (error) => isMatrixError(error, "invalid-input") && /a ConfigMap holds at most 1048576/.test(error.message));
  });

  it("survives a matrix without a trailing newline and with odd characters", () => {
    const source = KAFKA_MATRIX.replace("not in the test suite yet", `'needs "quotes", a: colon and # hash'`).trimEnd();
    const m = parseMatrixSource(source, { name: "odd.yaml" });
    const back = readMatrixText(configMapFor(m), "cm.yaml");
    assert.equal(back.rules[4]?.note, 'needs "quotes", a: colon and # hash');
  });
});

describe("broken ConfigMaps", () => {
  const good = configMapFor(matrix);
  const cases: Array<[name: string, text: string, place: string, message: RegExp]> = [
    ["not YAML", "apiVersion: v1\nkind: ConfigMap\ndata: [\n", "cm.yaml:4:1", /not valid YAML/],
    ["another kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "cm.yaml:2:7", /not a ConfigMap \(kind "Deployment"\)/],
    ["no kind", "apiVersion: v1\nmetadata: {name: x}\n", "cm.yaml:1:1", /not a ConfigMap \(no kind\)/],
    ["a list", "- a\n- b\n", "cm.yaml:1:1", /not a ConfigMap \(not a YAML mapping\)/],
    ["no data", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "cm.yaml:1:1", /has no data section/],
    ["missing key", "apiVersion: v1\nkind: ConfigMap\ndata:\n  other.yaml: x\n  more: y\n", "cm.yaml:4:3", /no data key "matrix\.yaml" \(it has: other\.yaml, more\)/],
    ["data not a string", "apiVersion: v1\nkind: ConfigMap\ndata:\n  matrix.yaml:\n    rules: []\n", "cm.yaml:5:5", /is not a string/],
    [
      "bad YAML inside the data string",
      good.replace("    images: \">=0.2.0\"\n", "    images: [\">=0.2.0\"\n"),
      "cm.yaml:29:9 (data.matrix.yaml line 17, column 5)",
      /not valid YAML/,
    ],
    [
      "bad rule inside the data string",
      good.replace("state: unsupported", "state: maybe"),
      "cm.yaml:47:16 (data.matrix.yaml line 35, column 12)",
      /\$\.rules\[4\]\.state/,
    ],
    [
      "bad rule in a quoted data string (no outer place)",
      `apiVersion: v1\nkind: ConfigMap\ndata:\n  matrix.yaml: ${JSON.stringify(KAFKA_MATRIX.replace("state: unsupported", "state: maybe"))}\n`,
      "cm.yaml (data.matrix.yaml line 35, column 12)",
      /\$\.rules\[4\]\.state/,
    ],
  ];
  for (const [name, text, place, message] of cases) {
    it(name, () => {
      assert.throws(
        () => readMatrixText(text, "cm.yaml"),
        (error) => isMatrixError(error, "invalid-input") && error.place === place && message.test(error.message),
      );
    });
  }

  it("names both rules when the embedded matrix contradicts itself", () => {
    const contradicting = KAFKA_MATRIX + '  - { operator: "0.3.1", product: kafka, productVersions: ["3.7.0"], images: "0.2.2", state: incompatible }\n';
    assert.throws(
      () => readMatrixText(configMapFor(parseMatrixSource(contradicting, { name: "m.yaml" })), "cm.yaml"),
      (error) => isMatrixError(error, "invalid-input") && error.place === "cm.yaml:32:9 (data.matrix.yaml line 20, column 5) and cm.yaml:49:9 (data.matrix.yaml line 37, column 5)",
    );
  });
});

describe("where a matrix is read from", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-compat-cm-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a ConfigMap file, a matrix file and stdin alike", async () => {
    await writeFile(join(dir, "cm.yaml"), configMapFor(matrix));
    await writeFile(join(dir, "matrix.yaml"), KAFKA_MATRIX);
    sameRules(await loadMatrix(join(dir, "cm.yaml")), matrix);
    sameRules(await loadMatrix(join(dir, "matrix.yaml")), matrix);
    sameRules(await loadMatrix("-", () => Promise.resolve(configMapFor(matrix))), matrix);
  });

  it("reads a mounted ConfigMap directory through the kubelet's ..data symlinks", async () => {
    const mount = await mountConfigMap({ "matrix.yaml": KAFKA_MATRIX });
    try {
      sameRules(await loadMatrix(mount.dir), matrix);
      await mount.update({ "matrix.yaml": KAFKA_MATRIX.replace("state: unsupported", "state: incompatible") });
      assert.equal((await loadMatrix(mount.dir)).rules[4]?.state, "incompatible");
    } finally {
      await mount.remove();
    }
  });

  it("says which key a mounted directory lacks", async () => {
    const mount = await mountConfigMap({ "other.yaml": "x: 1\n" });
    try {
      await assert.rejects(loadMatrix(mount.dir), (error) => isMatrixError(error, "invalid-input") && error.place === join(mount.dir, "matrix.yaml") && /has no "matrix\.yaml"/.test(error.message));
    } finally {
      await mount.remove();
    }
  });

  it("answers a missing file with not-found", async () => {
    await assert.rejects(loadMatrix(join(dir, "nope.yaml")), (error) => isMatrixError(error, "not-found"));
  });
});

describe("compat configmap and check on the command line", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-compat-cli-"));
    await writeFile(join(dir, "matrix.yaml"), KAFKA_MATRIX);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the ConfigMap and checks it from stdin", async () => {
    const written = await runCli(["compat", "configmap", "--matrix", join(dir, "matrix.yaml"), "--namespace", "kafka"]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(readMatrixText(written.stdout, "out.yaml").digest, matrix.digest);
    const checked = await runCli(["compat", "check", "--configmap", "-", "--json"], { input: written.stdout });
    assert.equal(checked.code, 0, checked.stderr);
    const result = parseJson<{ valid: boolean; rules: number; matrixDigest: string }>(checked);
    assert.deepEqual([result.valid, result.rules, result.matrixDigest], [true, 5, matrix.digest]);
  });

  it("refuses a broken ConfigMap with exit 3 and the place in the JSON error", async () => {
    const broken = configMapFor(matrix).replace("state: unsupported", "state: maybe");
    const result = await runCli(["compat", "check", "--configmap", "-", "--json"], { input: broken });
    assert.equal(result.code, 3);
    const { error } = parseJson<{ error: { kind: string; place: string; input: string } }>(result);
    assert.equal(error.kind, "invalid-input");
    assert.equal(error.place, "<stdin>:47:16 (data.matrix.yaml line 35, column 12)");
    const human = await runCli(["compat", "check", "--configmap", "-"], { input: broken });
    assert.match(human.stderr, /at: {4}<stdin>:47:16/);
  });

  it("wants exactly one of --matrix and --configmap (usage, exit 2)", async () => {
    const result = await runCli(["compat", "check"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /exactly one of --matrix and --configmap/);
  });
});
