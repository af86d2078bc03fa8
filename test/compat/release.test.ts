import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseJson, runCli } from "../support/cli.ts";
import { coverRelease, evaluate, isMatrixError, parseMatrixSource } from "./imports.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

describe("release coverage", () => {
  it("reports rules whose ranges already cover a new patch, and changes nothing", () => {
    const report = coverRelease(KAFKA_MATRIX, "m.yaml", { product: "kafka", productVersion: "3.7.0", imageVersion: "0.2.1" });
    assert.equal(report.changed, false);
    assert.equal(report.text, KAFKA_MATRIX);
    assert.deepEqual(
      report.covering.map((c) => [c.rule.number, c.how, c.rule.state]),
      [
        [2, "range", "incompatible"],
        [3, "range", "compatible"],
      ],
    );
  });

  it("adds the patch to rules listing its predecessor, keeping comments and the rest of the text", () => {
    const report = coverRelease(KAFKA_MATRIX, "m.yaml", { product: "kafka", productVersion: "3.8.0", imageVersion: "0.2.1" });
    assert.equal(report.changed, true);
    assert.deepEqual(report.covering.map((c) => [c.rule.number, c.how]), [
      [2, "range"],
      [5, "added"],
    ]);
    // Exactly one line differs, and the comment on it stays.
    const before = KAFKA_MATRIX.split("\n");
    const after = report.text.split("\n");
    assert.equal(after.length, before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [[before[i], line]]));
    assert.deepEqual(changed, [['    images: ["0.2.0"] # listed one by one', '    images: ["0.2.0", "0.2.1"] # listed one by one']]);
    const matrix = parseMatrixSource(report.text, { name: "m.yaml" });
    assert.equal(evaluate(matrix, { operatorVersion: "0.3.0", product: "kafka", productVersion: "3.8.0", imageVersion: "0.2.1" }).rule?.number, 5);
    // Running it again finds it listed.
    const again = coverRelease(report.text, "m.yaml", { product: "kafka", productVersion: "3.8.0", imageVersion: "0.2.1" });
    assert.deepEqual([again.changed, again.covering.map((c) => c.how)], [false, ["range", "listed"]]);
  });

  it("never adds a new minor version on its own", () => {
    const report = coverRelease(KAFKA_MATRIX, "m.yaml", { product: "kafka", productVersion: "3.8.0", imageVersion: "0.3.0" });
    assert.deepEqual([report.changed, report.covering.map((c) => c.rule.number)], [false, [2]]);
  });

  it("refuses an addition that would contradict another rule (conflict)", () => {
    const source = `${KAFKA_MATRIX}  - { operator: ">=0.3.0 <0.4.0", product: kafka, productVersions: ["3.8.0"], images: "0.2.1", state: incompatible }\n`;
    assert.throws(
      () => coverRelease(source, "m.yaml", { product: "kafka", productVersion: "3.8.0", imageVersion: "0.2.1" }),
      (error) => isMatrixError(error, "conflict") && error.place === "m.yaml:31:5 and m.yaml:37:5",
    );
  });

  it("refuses a malformed image version with invalid-input", () => {
    assert.throws(() => coverRelease(KAFKA_MATRIX, "m.yaml", { product: "kafka", productVersion: "3.8.0", imageVersion: "0.2" }), (error) => isMatrixError(error, "invalid-input"));
  });

  it("works from the command line, writing only with --write", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imagewright-compat-cover-"));
    try {
      const file = join(dir, "matrix.yaml");
      await writeFile(file, KAFKA_MATRIX);
      const dry = await runCli(["compat", "cover", "--matrix", file, "kafka", "3.8.0", "0.2.1"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /5 +.*added/);
      assert.match(dry.stdout, /pass --write/);
      assert.equal(await readFile(file, "utf8"), KAFKA_MATRIX);
      const wet = await runCli(["compat", "cover", "--matrix", file, "kafka", "3.8.0", "0.2.1", "--write", "--json"]);
      assert.equal(wet.code, 0, wet.stderr);
      assert.deepEqual(parseJson<{ written: boolean }>(wet).written, true);
      assert.match(await readFile(file, "utf8"), /images: \["0\.2\.0", "0\.2\.1"\] # listed one by one/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
