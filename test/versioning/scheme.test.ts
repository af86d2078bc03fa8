// Tag schemes, table-driven: every preset and custom templates, both directions, and the
// templates and tags that are refused (no fit, ambiguous, templates that cannot round-trip).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import {
  floatingTags,
  formatGitTag,
  formatTag,
  parseGitTag,
  parseTag,
  readTag,
  TAG_SCHEME_PRESETS,
  tagScheme,
  type ImageCoordinates,
  type TagSchemeConfig,
} from "../../src/versioning/index.ts";
import { PRODUCTS } from "./arbitraries.ts";

function refused(run: () => unknown, expected: { message: RegExp; place?: string; kind?: string }): ImagewrightError {
  let caught: ImagewrightError | undefined;
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ImagewrightError, `expected ImagewrightError, got ${String(error)}`);
    assert.equal(error.kind, expected.kind ?? "invalid-input");
    assert.match(error.message, expected.message);
    if (expected.place !== undefined) assert.equal(error.place, expected.place);
    caught = error;
    return true;
  });
  return caught!;
}

interface Row {
  config: TagSchemeConfig;
  coordinates: ImageCoordinates;
  tag: string;
  gitTag?: string;
  floating?: string[];
}

const rows: Row[] = [
  // ADR018 (seed 004), its table row by row.
  { config: "stackable", coordinates: { product: "kafka", productVersion: "2.8.0", imageVersion: "0.1.0" }, tag: "2.8.0_stackable0.1.0", gitTag: "kafka2.8.0_stackable0.1.0" },
  { config: "stackable", coordinates: { product: "kafka", productVersion: "2.9.0", imageVersion: "0.1.0" }, tag: "2.9.0_stackable0.1.0", gitTag: "kafka2.9.0_stackable0.1.0" },
  { config: "stackable", coordinates: { product: "kafka", productVersion: "2.9.0", imageVersion: "0.1.1" }, tag: "2.9.0_stackable0.1.1", gitTag: "kafka2.9.0_stackable0.1.1" },
  { config: "stackable", coordinates: { product: "kafka-native", productVersion: "3.7.0", imageVersion: "0.2.0" }, tag: "3.7.0_stackable0.2.0", gitTag: "kafka-native3.7.0_stackable0.2.0" },
  { config: "stackable", coordinates: { product: "trino", productVersion: "403", imageVersion: "1.0.0" }, tag: "403_stackable1.0.0", gitTag: "trino403_stackable1.0.0" },
  { config: "stackable", coordinates: { product: "spark-k8s", productVersion: "2.13", imageVersion: "0.0.0-dev" }, tag: "2.13_stackable0.0.0-dev", gitTag: "spark-k8s2.13_stackable0.0.0-dev" },
  { config: { preset: "stackable", vendor: "acme" }, coordinates: { product: "kafka", productVersion: "2.8.0", imageVersion: "0.1.0" }, tag: "2.8.0_acme0.1.0", gitTag: "kafka2.8.0_acme0.1.0" },
  // The earlier form, with its floating major-only tag.
  { config: "stackable-legacy", coordinates: { product: "kafka", productVersion: "2.8.0", imageVersion: "0.1.0" }, tag: "2.8.0-stackable0.1.0", gitTag: "kafka2.8.0-stackable0.1.0", floating: ["2.8.0-stackable0"] },
  { config: "stackable-legacy", coordinates: { product: "kafka", productVersion: "24.7.0", imageVersion: "23.11.4" }, tag: "24.7.0-stackable23.11.4", gitTag: "kafka24.7.0-stackable23.11.4", floating: ["24.7.0-stackable23"] },
  // A pre-release image gets no floating tag: floating tags stand for the newest release.
  { config: "stackable-legacy", coordinates: { product: "kafka", productVersion: "2.8.0", imageVersion: "0.2.0-rc.1" }, tag: "2.8.0-stackable0.2.0-rc.1", gitTag: "kafka2.8.0-stackable0.2.0-rc.1", floating: [] },
  { config: "stackable-legacy", coordinates: { product: "kafka", productVersion: "1", imageVersion: "9007199254740991.0.0" }, tag: "1-stackable9007199254740991.0.0", gitTag: "kafka1-stackable9007199254740991.0.0", floating: ["1-stackable9007199254740991"] },
  { config: { preset: "stackable-legacy", vendor: "my-org" }, coordinates: { product: "kafka", productVersion: "1.5.1", imageVersion: "2.0.1" }, tag: "1.5.1-my-org2.0.1", gitTag: "kafka1.5.1-my-org2.0.1", floating: ["1.5.1-my-org2"] },
  // KIP-974 (seed 000): no image version in the tag, RCs with -rcN.
  { config: "kafka", coordinates: { productVersion: "3.7.0" }, tag: "3.7.0", gitTag: "3.7.0" },
  { config: "kafka", coordinates: { productVersion: "3.7.0", rc: 0 }, tag: "3.7.0-rc0", gitTag: "3.7.0-rc0" },
  { config: "kafka", coordinates: { productVersion: "4.1.0", rc: 12 }, tag: "4.1.0-rc12", gitTag: "4.1.0-rc12" },
  // Custom templates.
  { config: { registryTag: "{productVersion}.{imageVersion}" }, coordinates: { productVersion: "3.7.0", imageVersion: "0.1.0" }, tag: "3.7.0.0.1.0" },
  {
    config: { registryTag: "v{productVersion}-{vendor}-{imageVersion}", gitTag: "release/{product}/{productVersion}/{imageVersion}", vendor: "acme", floatingTags: ["v{productVersion}-{vendor}-{imageVersion.major}.{imageVersion.minor}", "v{productVersion}-latest"] },
    coordinates: { product: "hbase", productVersion: "2.4.17", imageVersion: "1.2.3" },
    tag: "v2.4.17-acme-1.2.3",
    gitTag: "release/hbase/2.4.17/1.2.3",
    floating: ["v2.4.17-acme-1.2", "v2.4.17-latest"],
  },
  {
    config: { registryTag: "{productVersion}_{imageVersion}", rcRegistryTag: "{productVersion}_{imageVersion}_rc{rc}", gitTag: "{product}-{productVersion}_{imageVersion}", rcGitTag: "{product}-{productVersion}_{imageVersion}_rc{rc}" },
    coordinates: { product: "kafka", productVersion: "3.7.0", imageVersion: "0.1.0", rc: 3 },
    tag: "3.7.0_0.1.0_rc3",
    gitTag: "kafka-3.7.0_0.1.0_rc3",
  },
  { config: { registryTag: "{product}_{productVersion}" }, coordinates: { product: "kafka-native", productVersion: "3.7.0" }, tag: "kafka-native_3.7.0" },
];

describe("tag schemes, table-driven", () => {
  for (const row of rows) {
    const name = `${JSON.stringify(row.config)}: ${row.tag}`;
    it(`formats and parses ${name}`, () => {
      const scheme = tagScheme(row.config);
      assert.equal(formatTag(scheme, row.coordinates), row.tag);
      const expected: ImageCoordinates = { productVersion: row.coordinates.productVersion };
      if (scheme.registryTag.includes("{product}")) expected.product = row.coordinates.product!;
      if (scheme.registryTag.includes("{imageVersion}")) expected.imageVersion = row.coordinates.imageVersion!;
      if (row.coordinates.rc !== undefined) expected.rc = row.coordinates.rc;
      assert.deepEqual(parseTag(scheme, row.tag), expected);
      assert.deepEqual(floatingTags(scheme, row.coordinates), row.floating ?? []);
      for (const floating of row.floating ?? []) assert.equal(readTag(scheme, floating).kind, "floating");
      if (row.gitTag !== undefined) {
        assert.equal(formatGitTag(scheme, row.coordinates), row.gitTag);
        const git = parseGitTag(scheme, row.gitTag, PRODUCTS);
        assert.equal(git.productVersion, row.coordinates.productVersion);
        assert.equal(git.rc, row.coordinates.rc);
        if (scheme.gitTag?.includes("{product}") === true) assert.equal(git.product, row.coordinates.product);
      }
    });
  }

  it("lists its presets", () => {
    assert.deepEqual([...TAG_SCHEME_PRESETS].sort(), ["kafka", "stackable", "stackable-legacy"]);
  });

  it("names the kafka images: kafka for the JVM, kafka-native for GraalVM native", () => {
    assert.deepEqual(tagScheme("kafka").imageNames, { jvm: "kafka", native: "kafka-native" });
    assert.equal(tagScheme("stackable").vendor, "stackable");
    assert.equal(tagScheme({ preset: "stackable", vendor: "acme" }).vendor, "acme");
  });

  it("decides kafka vs kafka-native in git tags by the product list, not by guessing", () => {
    const scheme = tagScheme("stackable");
    assert.equal(parseGitTag(scheme, "kafka-native3.7.0_stackable0.2.0", ["kafka", "kafka-native"]).product, "kafka-native");
    assert.equal(parseGitTag(scheme, "kafka3.7.0_stackable0.2.0", ["kafka", "kafka-native"]).product, "kafka");
    refused(() => parseGitTag(scheme, "kafka-native3.7.0_stackable0.2.0", ["kafka"]), { message: /does not fit.*at character 6 expected a product version/ });
    refused(() => parseGitTag(scheme, "zookeeper3.8.4_stackable0.1.0", ["kafka", "kafka-native"]), { message: /expected one of the products kafka, kafka-native/, place: "character 1" });
  });

  it("ignores coordinates a template does not carry (kafka tags have no image version)", () => {
    assert.equal(formatTag(tagScheme("kafka"), { product: "kafka", productVersion: "3.7.0", imageVersion: "0.4.0" }), "3.7.0");
  });
});

describe("tags that are refused", () => {
  const stackable = tagScheme("stackable");
  const noFit: Array<[TagSchemeConfig, string, string, RegExp]> = [
    ["stackable", "2.8.0-stackable0.1.0", "character 6", /at character 6 expected "_stackable", found "-stackable0\."/],
    ["stackable", "2.8.0_stackabl0.1.0", "character 15", /expected "e" \(the rest of "_stackable"\)/],
    ["stackable", "2.8.0_stackable0.1", "character 16", /expected an image version/],
    ["stackable", "2.8.0_stackable0.1.0-", "character 21", /at character 21 expected the end of the tag, found "-"/],
    ["stackable", "latest", "character 1", /expected a product version/],
    [{ preset: "stackable", vendor: "acme" }, "2.8.0_stackable0.1.0", "character 7", /expected "acme"/],
    ["kafka", "3.7.0-rc", "character 9", /release-candidate registry tag .* at character 9 expected a release-candidate number, found the end of the tag/],
    ["kafka", "3.7.0-rc01", "character 10", /at character 10 expected the end of the tag/],
    ["stackable-legacy", "2.8.0-stackable0.1", "character 17", /floating tag .* at character 17 expected the end of the tag/],
  ];
  for (const [config, tag, place, message] of noFit) {
    it(`refuses ${tag} under ${JSON.stringify(config)}, saying where`, () => {
      const error = refused(() => parseTag(tagScheme(config), tag), { message, place });
      assert.equal(error.input, `tag ${JSON.stringify(tag)}`);
      assert.equal(error.exitCode, 3);
    });
  }

  it("checks the OCI tag grammar before the scheme", () => {
    refused(() => parseTag(stackable, "2.8.0_stackable0.1.0+build"), { message: /"\+" at character 21/, place: "character 21" });
    refused(() => parseTag(stackable, "-2.8.0"), { message: /must not start with "-"/ });
    refused(() => parseTag(stackable, "1".repeat(129)), { message: /129 characters long/ });
    refused(() => parseTag(stackable, ""), { message: /empty/ });
  });

  it("refuses a git tag git itself would refuse", () => {
    refused(() => parseGitTag(stackable, "kafka2.8.0..x", ["kafka"]), { message: /contains "\.\."/ });
    refused(() => parseGitTag(stackable, "kafka 2.8.0", ["kafka"]), { message: /" " at character 6/, place: "character 6" });
  });

  it("refuses a floating tag where one image is meant, and says so", () => {
    refused(() => parseTag(tagScheme("stackable-legacy"), "2.8.0-stackable0"), { message: /floating tag.*not one image/ });
  });

  it("refuses an ambiguous git tag and lists every reading", () => {
    const error = refused(() => parseGitTag(stackable, "kafka12.0_stackable0.1.0", ["kafka", "kafka1"]), {
      message: /ambiguous under tag scheme stackable: it reads as \(1\) product=kafka, productVersion=12\.0.*\(2\) product=kafka1, productVersion=2\.0/,
    });
    assert.equal(error.input, 'git tag "kafka12.0_stackable0.1.0"');
  });

  it("needs the product list for git tags that name the product", () => {
    refused(() => parseGitTag(stackable, "kafka3.7.0_stackable0.1.0", []), { message: /needs the list of products/, kind: "usage" });
    refused(() => parseGitTag(stackable, "kafka3.7.0_stackable0.1.0", ["Kafka"]), { message: /product name "Kafka" is not valid/ });
  });

  it("refuses coordinates the scheme cannot write", () => {
    refused(() => formatTag(stackable, { productVersion: "3.7.0" }), { message: /needs an image version/ });
    refused(() => formatTag(stackable, { productVersion: "3.7.0", imageVersion: "0.1" }), { message: /image version "0.1" is not SemVer/ });
    refused(() => formatTag(stackable, { productVersion: "3.7.0-1", imageVersion: "0.1.0" }), { message: /"-" at character 6/ });
    refused(() => formatTag(stackable, { productVersion: "3.7.0", imageVersion: "0.1.0", rc: 1 }), { message: /no release-candidate registry tag template/ });
    refused(() => formatGitTag(stackable, { productVersion: "3.7.0", imageVersion: "0.1.0" }), { message: /needs a product/ });
    refused(() => formatTag(tagScheme("kafka"), { productVersion: "3.7.0", rc: -1 }), { message: /not a whole number/ });
    refused(() => formatTag(tagScheme("kafka"), { productVersion: "3.7.0", rc: 1.5 }), { message: /not a whole number/ });
    refused(() => formatTag(stackable, { productVersion: "1" + ".1".repeat(55), imageVersion: "1000.1000.1000" }), { message: /at most 128/ });
    refused(() => formatGitTag(tagScheme({ registryTag: "{productVersion}" }), { productVersion: "3.7.0" }), { message: /has no git tag template/ });
  });
});

describe("tag schemes that are refused when built", () => {
  const bad: Array<[string, TagSchemeConfig, RegExp, string?]> = [
    ["unknown preset", "stackable2", /unknown tag scheme preset "stackable2"/],
    ["a preset name inherited from Object", "toString", /unknown tag scheme preset "toString"/],
    ["__proto__ as a preset", { preset: "__proto__" }, /unknown tag scheme preset "__proto__"/],
    ["adjacent fields", { registryTag: "{productVersion}{imageVersion}" }, /\{productVersion\} and \{imageVersion\} at character 17 have nothing between them/, "registryTag, character 17"],
    ["adjacent fields after the vendor", { registryTag: "{productVersion}_{vendor}{imageVersion}{rc}", vendor: "x" }, /uses \{rc\}/],
    ["adjacent product in a registry tag", { registryTag: "{product}{productVersion}" }, /\{product\} and \{productVersion\}/],
    ["no product version", { registryTag: "{product}-{imageVersion}" }, /has no \{productVersion\}/],
    ["unknown placeholder", { registryTag: "{productVersion}-{version}" }, /unknown placeholder \{version\} at character 18/, "registryTag, character 18"],
    ["unclosed brace", { registryTag: "{productVersion}-{imageVersion" }, /"\{" at character 18 is never closed/],
    ["stray brace", { registryTag: "{productVersion}}" }, /"\}" at character 17 has no matching "\{"/],
    ["character not allowed in an OCI tag", { registryTag: "{productVersion}+{imageVersion}" }, /"\+" at character 17 cannot appear in a registry tag/],
    ["registry tag starting with a dot", { registryTag: ".{productVersion}" }, /cannot start with "\."/],
    ["vendor placeholder without a vendor", { registryTag: "{productVersion}_{vendor}{imageVersion}" }, /uses \{vendor\} but the scheme has no vendor word/],
    ["RC template without {rc}", { registryTag: "{productVersion}", rcRegistryTag: "{productVersion}-rc" }, /release-candidate template without \{rc\}/],
    ["{rc} in a release template", { registryTag: "{productVersion}-{rc}" }, /uses \{rc\}, which only release-candidate templates may/],
    ["floating tag with the full image version", { registryTag: "{productVersion}_{imageVersion}", floatingTags: ["{productVersion}-{imageVersion}"] }, /would not float/],
    ["floating tag equal to the release tag", { registryTag: "{productVersion}", floatingTags: ["{productVersion}"] }, /cannot be read back unambiguously: tag "3.7.0" is ambiguous/],
    ["RC tag that also reads as a release with a pre-release image version", { registryTag: "{productVersion}-{imageVersion}", rcRegistryTag: "{productVersion}-{imageVersion}-rc{rc}" }, /cannot be read back unambiguously: tag "3.7.0-0.1.0-rc0" is ambiguous/],
    ["minor without major", { registryTag: "{productVersion}_{imageVersion}", floatingTags: ["{productVersion}_{imageVersion.minor}"] }, /without \{imageVersion\.major\}/],
    ["bad vendor word", { preset: "stackable", vendor: "acme2" }, /vendor word "acme2" is not valid/, "tagScheme.vendor"],
    ["vendor with an underscore", { preset: "stackable", vendor: "a_b" }, /vendor word "a_b" is not valid/],
    ["unknown key", { registryTag: "{productVersion}", gitTags: "x" } as unknown as TagSchemeConfig, /unknown key "gitTags"/, "tagScheme.gitTags"],
    ["unknown key next to a preset", { preset: "stackable", registryTag: "{productVersion}" }, /unknown key "registryTag" next to "preset"/],
    ["rc git tag without git tag", { registryTag: "{productVersion}", rcRegistryTag: "{productVersion}-rc{rc}", rcGitTag: "{productVersion}-rc{rc}" }, /rcGitTag is given without gitTag/],
    ["git tag with a character git refuses", { registryTag: "{productVersion}", gitTag: "{product}:{productVersion}" }, /":" at character 10 cannot appear in a git tag/],
    ["not an object", 42 as unknown as TagSchemeConfig, /a preset name or an object/],
    ["no registry tag", { gitTag: "{productVersion}" } as unknown as TagSchemeConfig, /needs "registryTag"/],
  ];
  for (const [name, config, message, place] of bad) {
    it(`refuses ${name}`, () => {
      const error = refused(() => tagScheme(config), { message });
      if (place !== undefined) assert.equal(error.place, place);
    });
  }
});
