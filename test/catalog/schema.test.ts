import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { jsonSchema, SCHEMA_FILES } from "../../src/catalog/index.ts";
import type { SchemaName } from "../../src/catalog/index.ts";
import { runCli } from "../support/cli.ts";

const SCHEMA_DIR = fileURLToPath(new URL("../../schema/", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../../examples/catalog/", import.meta.url));

describe("the editors' JSON Schemas", () => {
  for (const name of Object.keys(SCHEMA_FILES) as SchemaName[]) {
    it(`schema/${SCHEMA_FILES[name].file} is what the validating definition generates`, () => {
      const committed: unknown = JSON.parse(readFileSync(join(SCHEMA_DIR, SCHEMA_FILES[name].file), "utf8"));
      assert.deepEqual(committed, jsonSchema(name), "regenerate with: imagewright catalog schema --write schema");
    });
  }

  it("closes every object, so a mistyped key is flagged in the editor too", () => {
    const image = jsonSchema("image") as { additionalProperties?: boolean; properties: Record<string, { items?: { additionalProperties?: boolean } }> };
    assert.equal(image.additionalProperties, false);
    assert.equal(image.properties["versions"]?.items?.additionalProperties, false);
  });

  it("describes the example catalog's keys (every key used there is a schema property)", () => {
    const root = jsonSchema("catalog") as { properties: Record<string, unknown> };
    const example = parse(readFileSync(join(EXAMPLE, "imagewright.yaml"), "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(example)) assert.ok(key in root.properties, key);
  });

  it("`catalog schema --write` writes both files, byte for byte as committed", async (t) => {
    const out = mkdtempSync(join(tmpdir(), "imagewright-schema-"));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const result = await runCli(["catalog", "schema", "--write", out, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const written = (JSON.parse(result.stdout) as { written: string[] }).written;
    assert.equal(written.length, 2);
    for (const { file } of Object.values(SCHEMA_FILES)) {
      assert.equal(readFileSync(join(out, file), "utf8"), readFileSync(join(SCHEMA_DIR, file), "utf8"));
    }
  });

  it("`catalog schema image` prints the image schema", async () => {
    const result = await runCli(["catalog", "schema", "image"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), jsonSchema("image"));
  });

  it("`catalog schema` refuses an unknown schema name with a usage error", async () => {
    const result = await runCli(["catalog", "schema", "operator"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown schema "operator"/);
  });
});
