import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "../support/cli.ts";
import { matrixTable, parseMatrixSource, renderHtml, renderMarkdown } from "./imports.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

const matrix = parseMatrixSource(KAFKA_MATRIX, { name: "m.yaml" });

describe("matrix tables", () => {
  const table = matrixTable(matrix);

  it("cuts operator versions where rules' bounds fall", () => {
    assert.deepEqual(table.rows.map((row) => row.operator), ["<0.2.0", ">=0.2.0 <0.3.0", ">=0.3.0 <0.4.0", ">=0.4.0"]);
  });

  it("has a column per product version and image stretch, with * for unnamed versions", () => {
    const of = (productVersion: string): string[] => table.columns.filter((c) => c.productVersion === productVersion).map((c) => c.images);
    assert.deepEqual(of("3.7.0"), ["<0.1.0", ">=0.1.0 <0.2.0", ">=0.2.0 <0.3.0", ">=0.3.0"]);
    assert.deepEqual(of("3.8.0"), ["<0.2.0", "0.2.0", ">=0.2.1"]);
    assert.deepEqual(of("*"), ["<0.2.0", ">=0.2.0"]);
  });

  it("agrees with evaluation in every cell", () => {
    const cell = (operator: string, productVersion: string, images: string): unknown => {
      const row = table.rows.find((r) => r.operator === operator);
      const column = table.columns.findIndex((c) => c.productVersion === productVersion && c.images === images);
      return row?.cells[column];
    };
    assert.deepEqual(cell(">=0.2.0 <0.3.0", "3.7.0", ">=0.1.0 <0.2.0"), { state: "compatible", rule: 1 });
    assert.deepEqual(cell(">=0.2.0 <0.3.0", "*", ">=0.2.0"), { state: "incompatible", rule: 2 });
    assert.deepEqual(cell(">=0.3.0 <0.4.0", "3.8.0", "0.2.0"), { state: "unsupported", rule: 5 });
    assert.deepEqual(cell(">=0.3.0 <0.4.0", "3.8.0", ">=0.2.1"), { state: "unsupported" });
    assert.deepEqual(cell(">=0.4.0", "3.7.0", ">=0.2.0 <0.3.0"), { state: "unsupported" });
  });

  it("renders markdown with one line per row and the notes", () => {
    const markdown = renderMarkdown(table);
    const lines = markdown.split("\n");
    assert.match(lines[0] ?? "", /^\| Operator \| kafka 3\.6\.1, image <0\.1\.0 \|/);
    assert.equal(lines[1], `| --- |${" --- |".repeat(table.columns.length)}`);
    assert.match(markdown, /\| >=0\.3\.0 <0\.4\.0 \| ❌ incompatible \(rule 4\) \|/);
    assert.match(markdown, /- rule 2: image 0\.2 moved the config directory/);
    assert.match(markdown, /A combination no rule covers is unsupported\./);
  });

  it("renders escaped HTML with grouped product headers", () => {
    const html = renderHtml(table);
    assert.match(html, /<th colspan="4">kafka 3\.7\.0<\/th>/);
    assert.match(html, /<th>image &gt;=0\.1\.0 &lt;0\.2\.0<\/th>/);
    assert.match(html, /<td class="incompatible" title="rule 4: operator 0\.3 expects the new config directory">❌ incompatible <sup>4<\/sup><\/td>/);
    assert.equal(html.match(/<tr>/g)?.length, 2 + table.rows.length);
  });

  it("says so instead of drawing an empty table for a matrix without rules", () => {
    const empty = matrixTable(parseMatrixSource("apiVersion: imagewright.dev/v1\nkind: CompatibilityMatrix\nuncovered: incompatible\nrules: []\n", { name: "e.yaml" }));
    assert.equal(renderMarkdown(empty), "The matrix has no rules: every combination is incompatible.\n");
    assert.match(renderHtml(empty), /^<p class="imagewright-compat">The matrix has no rules/);
  });

  it("is printed by compat render", async () => {
    const result = await runCli(["compat", "render", "--configmap", fileURLToPath(new URL("../../examples/compat/configmap.yaml", import.meta.url)), "--format", "html"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^<table class="imagewright-compat">/);
    const bad = await runCli(["compat", "render", "--matrix", fileURLToPath(new URL("../../examples/compat/matrix.yaml", import.meta.url)), "--format", "pdf"]);
    assert.equal(bad.code, 2);
  });
});
