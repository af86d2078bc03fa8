// `imagewright catalog validate|list|schema`: the catalog library on the command line.

import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { catalogLocation, jsonSchema, loadCatalog, repositoryOf, SCHEMA_FILES } from "../../catalog/index.ts";
import type { Catalog, SchemaName } from "../../catalog/index.ts";
import { ImagewrightError, isImagewrightError } from "../../errors/index.ts";
import { floatingTags, formatGitTag } from "../../versioning/index.ts";
import { answer, table } from "../output.ts";

export const CATALOG_OPTION_HELP = "the catalog's folder (default: $IMAGEWRIGHT_CATALOG, else the current directory)";

/** Loads the catalog named by --catalog / IMAGEWRIGHT_CATALOG / the working directory. */
export function catalogFromOptions(options: { catalog?: string }): Catalog {
  return loadCatalog(catalogLocation(options.catalog));
}

interface CatalogListRow {
  image: string;
  kind: string;
  productVersion: string;
  imageVersion: string;
  tag: string;
  floatingTags: string[];
  reference: string;
  gitTag?: string;
  status: string;
  endOfLife?: string;
  platforms: string[];
  dependencies: string[];
  testSuite?: string;
  dockerfile: string;
}

function listRows(catalog: Catalog, only: string | undefined): CatalogListRow[] {
  if (only !== undefined && !catalog.byName.has(only)) {
    throw new ImagewrightError("not-found", `the catalog has no image "${only}"`, {
      input: `--image ${only}`,
      hint: `images: ${catalog.images.map((image) => image.name).join(", ")}`,
    });
  }
  const rows: CatalogListRow[] = [];
  for (const image of catalog.images) {
    if (only !== undefined && image.name !== only) continue;
    for (const version of image.versions) {
      const coordinates = { product: image.name, productVersion: version.productVersion, imageVersion: version.imageVersion };
      const tag = version.tag;
      let gitTag: string | undefined;
      try {
        gitTag = formatGitTag(catalog.tagScheme, coordinates);
      } catch (error) {
        // A custom scheme need not define git tags; then there is simply none to show.
        if (!isImagewrightError(error)) throw error;
      }
      rows.push({
        image: image.name,
        kind: image.kind,
        productVersion: version.productVersion,
        imageVersion: version.imageVersion,
        tag,
        floatingTags: floatingTags(catalog.tagScheme, coordinates),
        reference: `${repositoryOf(catalog, image.name)}:${tag}`,
        ...(gitTag === undefined ? {} : { gitTag }),
        status: version.support.status,
        ...(version.support.endOfLife === undefined ? {} : { endOfLife: version.support.endOfLife }),
        platforms: [...version.platforms],
        dependencies: version.dependencies.map((d) => `${d.image}=${d.productVersion}`),
        ...(version.testSuite === undefined ? {} : { testSuite: version.testSuite }),
        dockerfile: relative(catalog.root, version.dockerfile),
      });
    }
  }
  return rows;
}

export function register(program: Command): void {
  const catalog = program.command("catalog").description("validate, list and describe the image catalog");

  catalog
    .command("validate")
    .description("check the catalog: schema, paths, dependencies and cycles; every problem with file:line:column")
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .addHelpText(
      "after",
      `
Examples:
  imagewright catalog validate --catalog examples/catalog
  IMAGEWRIGHT_CATALOG=examples/catalog imagewright catalog validate --json

An invalid catalog exits with 3 (its problems listed, "problems" in --json),
a dependency cycle with 5.`,
    )
    .action((options: { catalog?: string }, command: Command) => {
      const loaded = catalogFromOptions(options);
      const versions = loaded.images.reduce((sum, image) => sum + image.versions.length, 0);
      answer(
        command,
        { valid: true, catalog: loaded.root, images: loaded.images.length, versions },
        (r) => `catalog ${relative(process.cwd(), r.catalog) || "."} is valid: ${r.images} images, ${r.versions} product versions`,
      );
    });

  catalog
    .command("list")
    .description("list every image and product version with its tag, support status and platforms")
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .option("--image <name>", "only this image")
    .addHelpText(
      "after",
      `
Examples:
  imagewright catalog list --catalog examples/catalog
  imagewright catalog list --catalog examples/catalog --image kafka --json`,
    )
    .action((options: { catalog?: string; image?: string }, command: Command) => {
      const loaded = catalogFromOptions(options);
      const rows = listRows(loaded, options.image);
      answer(command, { catalog: loaded.root, versions: rows }, (r) =>
        table(r.versions, [
          { header: "IMAGE", value: (row) => row.image },
          { header: "PRODUCT VERSION", value: (row) => row.productVersion },
          { header: "IMAGE VERSION", value: (row) => row.imageVersion },
          { header: "TAG", value: (row) => [row.tag, ...row.floatingTags].join(", ") },
          { header: "STATUS", value: (row) => (row.endOfLife === undefined ? row.status : `${row.status} (end of life ${row.endOfLife})`) },
          { header: "PLATFORMS", value: (row) => row.platforms.join(",") },
        ]),
      );
    });

  catalog
    .command("schema")
    .description("print the JSON Schema of imagewright.yaml (catalog) or image.yaml (image), or write both")
    .argument("[which]", "catalog or image", "catalog")
    .option("--write <dir>", "write catalog.schema.json and image.schema.json into this folder")
    .addHelpText(
      "after",
      `
Examples:
  imagewright catalog schema image
  imagewright catalog schema --write schema

Editors that speak JSON Schema (yaml-language-server) pick it up from a first line like
  # yaml-language-server: $schema=../../schema/image.schema.json`,
    )
    .action((which: string, options: { write?: string }, command: Command) => {
      if (options.write !== undefined) {
        const folder = resolve(options.write);
        mkdirSync(folder, { recursive: true });
        const files = (Object.keys(SCHEMA_FILES) as SchemaName[]).map((name) => {
          const file = join(folder, SCHEMA_FILES[name].file);
          writeFileSync(file, JSON.stringify(jsonSchema(name), null, 2) + "\n");
          return file;
        });
        answer(command, { written: files }, (r) => r.written.map((file) => `wrote ${relative(process.cwd(), file)}`).join("\n"));
        return;
      }
      if (!(which in SCHEMA_FILES)) {
        throw new ImagewrightError("usage", `unknown schema "${which}"`, { input: which, hint: "catalog or image" });
      }
      // The schema is JSON either way: with --json and without.
      process.stdout.write(JSON.stringify(jsonSchema(which as SchemaName), null, 2) + "\n");
    });
}
