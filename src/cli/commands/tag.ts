// `imagewright tag parse` and `imagewright tag format`: the versioning library's tag schemes
// on the command line. The registry commands attach `tag <ref> <new-tag>` to the same `tag` command.

import type { Command } from "commander";
import { ImagewrightError } from "../../errors/index.ts";
import {
  floatingTags,
  formatGitTag,
  formatTag,
  readGitTag,
  readTag,
  TAG_SCHEME_PRESETS,
  tagScheme,
  type ImageCoordinates,
  type TagReading,
  type TagScheme,
} from "../../versioning/index.ts";
import { answer, table } from "../output.ts";

interface SchemeOptions {
  scheme?: string;
  vendor?: string;
  template?: string;
  gitTemplate?: string;
  rcTemplate?: string;
  rcGitTemplate?: string;
}

const SCHEME_HELP = `presets: ${TAG_SCHEME_PRESETS.join(", ")} (default stackable)`;

function addSchemeOptions(command: Command): Command {
  return command
    .option("--scheme <preset>", `tag scheme preset; ${SCHEME_HELP}`)
    .option("--vendor <word>", "vendor word for {vendor} (stackable presets default to \"stackable\")")
    .option("--template <registry-template>", "custom registry tag template instead of a preset, e.g. '{productVersion}_{vendor}{imageVersion}'")
    .option("--git-template <git-template>", "custom git tag template (with --template)")
    .option("--rc-template <template>", "custom release-candidate registry tag template (with --template)")
    .option("--rc-git-template <template>", "custom release-candidate git tag template (with --template)");
}

/** The scheme the options describe: templates when --template is given, else a preset. */
function schemeFrom(options: SchemeOptions): TagScheme {
  if (options.template !== undefined) {
    if (options.scheme !== undefined) {
      throw new ImagewrightError("usage", "give either --scheme or --template, not both", { input: "--scheme/--template" });
    }
    return tagScheme({
      registryTag: options.template,
      ...(options.gitTemplate === undefined ? {} : { gitTag: options.gitTemplate }),
      ...(options.rcTemplate === undefined ? {} : { rcRegistryTag: options.rcTemplate }),
      ...(options.rcGitTemplate === undefined ? {} : { rcGitTag: options.rcGitTemplate }),
      ...(options.vendor === undefined ? {} : { vendor: options.vendor }),
    });
  }
  for (const [flag, value] of [
    ["--git-template", options.gitTemplate],
    ["--rc-template", options.rcTemplate],
    ["--rc-git-template", options.rcGitTemplate],
  ] as const) {
    if (value !== undefined) throw new ImagewrightError("usage", `${flag} needs --template`, { input: flag });
  }
  return tagScheme({ preset: options.scheme ?? "stackable", ...(options.vendor === undefined ? {} : { vendor: options.vendor }) });
}

function coordinateRows(c: ImageCoordinates): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (c.product !== undefined) rows.push(["product", c.product]);
  rows.push(["product version", c.productVersion]);
  if (c.imageVersion !== undefined) rows.push(["image version", c.imageVersion]);
  if (c.rc !== undefined) rows.push(["release candidate", String(c.rc)]);
  return rows;
}

function fieldTable(rows: ReadonlyArray<readonly [string, string]>): string {
  return table(rows, [
    { header: "FIELD", value: (row) => row[0] },
    { header: "VALUE", value: (row) => row[1] },
  ]);
}

interface ParseResult {
  tag: string;
  git: boolean;
  scheme: string;
  kind: TagReading["kind"];
  template: string;
  coordinates: ImageCoordinates;
  floating?: TagReading["floating"];
  /** For a git tag: the registry tag of the image it builds. */
  registryTag?: string;
}

function parseCommand(tag: Command): void {
  addSchemeOptions(
    tag
      .command("parse")
      .description("read a registry tag (or with --git a git tag) with a tag scheme and show what it says")
      .argument("<tag>", "the tag to read")
      .option("--git", "read a git tag (needs --product for schemes whose git tags name the product)")
      .option("--product <name...>", "the products a git tag may name (the catalog's products)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  imagewright tag parse 2.8.0_stackable0.1.0
  imagewright tag parse 2.8.0_acme0.1.0 --vendor acme
  imagewright tag parse 2.8.0-stackable0 --scheme stackable-legacy        (a floating tag)
  imagewright tag parse 3.7.0-rc0 --scheme kafka --json
  imagewright tag parse kafka-native3.7.0_stackable0.2.0 --git --product kafka kafka-native
  imagewright tag parse 3.7.0-acme-1.2.0 --template '{productVersion}-{vendor}-{imageVersion}' --vendor acme`,
    )
    .action((text: string, options: SchemeOptions & { git?: boolean; product?: string[] }, command: Command) => {
      const scheme = schemeFrom(options);
      const git = options.git === true;
      if (!git && options.product !== undefined && options.product.length > 0 && !scheme.registryTag.includes("{product}")) {
        throw new ImagewrightError("usage", "--product is for git tags (--git) or registry templates with {product}", { input: "--product" });
      }
      const reading = git ? readGitTag(scheme, text, options.product ?? []) : readTag(scheme, text, options.product === undefined ? {} : { products: options.product });
      const result: ParseResult = {
        tag: text,
        git,
        scheme: scheme.name,
        kind: reading.kind,
        template: reading.template,
        coordinates: reading.coordinates,
        ...(reading.floating === undefined ? {} : { floating: reading.floating }),
        ...(git ? { registryTag: formatTag(scheme, reading.coordinates) } : {}),
      };
      answer(command, result, (r) => {
        const rows: Array<[string, string]> = [
          [r.git ? "git tag" : "tag", r.tag],
          ["scheme", r.scheme],
          ["kind", r.kind],
          ["template", r.template],
          ...coordinateRows(r.coordinates),
        ];
        if (r.floating?.major !== undefined) rows.push(["image major (pinned)", String(r.floating.major)]);
        if (r.floating?.minor !== undefined) rows.push(["image minor (pinned)", String(r.floating.minor)]);
        if (r.registryTag !== undefined) rows.push(["registry tag", r.registryTag]);
        return fieldTable(rows);
      });
    });
}

interface FormatResult {
  scheme: string;
  git: boolean;
  tag: string;
  coordinates: ImageCoordinates;
  floatingTags: string[];
}

function parseRc(text: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(text)) {
    throw new ImagewrightError("usage", `--rc ${JSON.stringify(text)} is not a whole number 0 or above`, { input: `--rc ${text}` });
  }
  return Number(text);
}

function formatCommand(tag: Command): void {
  addSchemeOptions(
    tag
      .command("format")
      .description("write the registry tag (or with --git the git tag) for a product version and image version")
      .requiredOption("--product-version <version>", "the product version, e.g. 3.7.0, 403, 2.13")
      .option("--product <name>", "the product, e.g. kafka (git tags name it)")
      .option("--image-version <semver>", "the image version, e.g. 0.2.0 (not used by the kafka preset)")
      .option("--rc <n>", "release-candidate number: use the scheme's release-candidate template", parseRc)
      .option("--git", "write the git tag that makes CI build exactly this image"),
  )
    .addHelpText(
      "after",
      `
Examples:
  imagewright tag format --product-version 3.7.0 --image-version 0.2.0             → 3.7.0_stackable0.2.0
  imagewright tag format --product kafka --product-version 3.7.0 --image-version 0.2.0 --git
                                                                                  → kafka3.7.0_stackable0.2.0
  imagewright tag format --product-version 2.8.0 --image-version 0.1.0 --scheme stackable-legacy
                                                         → 2.8.0-stackable0.1.0 (floating 2.8.0-stackable0)
  imagewright tag format --product-version 3.7.0 --rc 1 --scheme kafka             → 3.7.0-rc1
  imagewright tag format --product-version 403 --image-version 1.0.0 --vendor acme --json`,
    )
    .action(
      (options: SchemeOptions & { productVersion: string; product?: string; imageVersion?: string; rc?: number; git?: boolean }, command: Command) => {
        const scheme = schemeFrom(options);
        const coordinates: ImageCoordinates = { productVersion: options.productVersion };
        if (options.product !== undefined) coordinates.product = options.product;
        if (options.imageVersion !== undefined) coordinates.imageVersion = options.imageVersion;
        if (options.rc !== undefined) coordinates.rc = options.rc;
        const git = options.git === true;
        const result: FormatResult = {
          scheme: scheme.name,
          git,
          tag: git ? formatGitTag(scheme, coordinates) : formatTag(scheme, coordinates),
          coordinates,
          floatingTags: git ? [] : floatingTags(scheme, coordinates),
        };
        // The tag alone on the first line, so `$(imagewright tag format …)` works in scripts.
        answer(command, result, (r) => [r.tag, ...r.floatingTags.map((t) => `floating: ${t}`)].join("\n"));
      },
    );
}

export function register(program: Command): void {
  // No action and no required argument here: the registry commands add `tag <ref> <new-tag>` to this command.
  const tag = program.command("tag").description("read and write image tags with a tag scheme (parse, format)");
  parseCommand(tag);
  formatCommand(tag);
}
