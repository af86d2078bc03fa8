// Property-based: format → parse → format is the identity for every preset and for custom
// schemes, and on arbitrary input the parsers throw nothing but ImagewrightError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import semver from "semver";
import { ImagewrightError } from "../../src/errors/index.ts";
import {
  compareProductVersions,
  floatingTags,
  formatGitTag,
  formatTag,
  parseGitTag,
  parseImageVersion,
  parseOperatorVersion,
  parseProductVersion,
  parseTag,
  readGitTag,
  readTag,
  resolveFloatingTag,
  TAG_SCHEME_PRESETS,
  tagScheme,
  type ImageCoordinates,
  type TagSchemeConfig,
} from "../../src/versioning/index.ts";
import { imageVersions, PRODUCTS, productVersions, products, rcs, vendors } from "./arbitraries.ts";

const RUNS = { numRuns: 400 };

/** Custom schemes chosen to be unambiguous for every value, so a refusal would be a bug. */
const CUSTOM_SCHEMES: TagSchemeConfig[] = [
  { registryTag: "{productVersion}.{imageVersion}" },
  {
    registryTag: "r{productVersion}-{vendor}{imageVersion}",
    rcRegistryTag: "r{productVersion}-{vendor}{imageVersion}_rc{rc}",
    gitTag: "release/{product}/{productVersion}/{imageVersion}",
    rcGitTag: "release/{product}/{productVersion}/{imageVersion}/rc{rc}",
    floatingTags: ["r{productVersion}-{vendor}{imageVersion.major}", "r{productVersion}-{vendor}{imageVersion.major}.{imageVersion.minor}"],
    vendor: "acme",
  },
  { registryTag: "{productVersion}_{imageVersion}", gitTag: "{product}{productVersion}_{imageVersion}" },
];

const schemeConfigs: fc.Arbitrary<TagSchemeConfig> = fc.oneof(
  fc.constantFrom(...TAG_SCHEME_PRESETS),
  fc.tuple(fc.constantFrom("stackable", "stackable-legacy"), vendors).map(([preset, vendor]) => ({ preset, vendor })),
  fc.constantFrom(...CUSTOM_SCHEMES),
);

const coordinates: fc.Arbitrary<ImageCoordinates> = fc
  .record({ product: products, productVersion: productVersions, imageVersion: imageVersions, rc: fc.option(rcs, { nil: undefined }) })
  .map((c) => (c.rc === undefined ? { product: c.product, productVersion: c.productVersion, imageVersion: c.imageVersion } : c));

function without(c: ImageCoordinates, template: string): ImageCoordinates {
  const kept: ImageCoordinates = { productVersion: c.productVersion };
  if (template.includes("{product}")) kept.product = c.product!;
  if (template.includes("{imageVersion}")) kept.imageVersion = c.imageVersion!;
  if (c.rc !== undefined) kept.rc = c.rc;
  return kept;
}

describe("round trips (fast-check)", () => {
  it("registry tags: format → parse gives the coordinates back, and format again gives the same tag", () => {
    fc.assert(
      fc.property(schemeConfigs, coordinates, (config, c) => {
        const scheme = tagScheme(config);
        if (c.rc !== undefined && scheme.rcRegistryTag === undefined) return; // the scheme has no RCs; refused, tested elsewhere
        const tag = formatTag(scheme, c);
        const parsed = parseTag(scheme, tag);
        assert.deepEqual(parsed, without(c, c.rc === undefined ? scheme.registryTag : scheme.rcRegistryTag!));
        assert.equal(formatTag(scheme, parsed), tag);
        assert.ok(tag.length <= 128);
      }),
      RUNS,
    );
  });

  it("git tags: format → parse with the catalog's products gives the coordinates back", () => {
    fc.assert(
      fc.property(schemeConfigs, coordinates, (config, c) => {
        const scheme = tagScheme(config);
        if (scheme.gitTag === undefined || (c.rc !== undefined && scheme.rcGitTag === undefined)) return;
        const gitTag = formatGitTag(scheme, c);
        const parsed = parseGitTag(scheme, gitTag, PRODUCTS);
        assert.deepEqual(parsed, without(c, c.rc === undefined ? scheme.gitTag : scheme.rcGitTag!));
        assert.equal(formatGitTag(scheme, parsed), gitTag);
        // The git tag names exactly the image the registry tag names.
        assert.deepEqual(parseTag(scheme, formatTag(scheme, parsed)), without(parsed, c.rc === undefined ? scheme.registryTag : scheme.rcRegistryTag!));
      }),
      RUNS,
    );
  });

  it("floating tags read as floating and resolve to the newest release with the same pinned numbers", () => {
    fc.assert(
      fc.property(schemeConfigs, coordinates, fc.array(imageVersions, { maxLength: 6 }), (config, c, others) => {
        const scheme = tagScheme(config);
        const release = { ...c, rc: undefined, imageVersion: c.imageVersion!.split("-")[0]! };
        const tags = [formatTag(scheme, release), ...others.map((imageVersion) => formatTag(scheme, { ...release, imageVersion }))];
        for (const floating of floatingTags(scheme, release)) {
          const reading = readTag(scheme, floating);
          assert.equal(reading.kind, "floating");
          assert.equal(reading.coordinates.productVersion, release.productVersion);
          const resolved = resolveFloatingTag(scheme, floating, tags);
          assert.ok(resolved !== undefined, `${floating} resolves among ${tags.join(", ")}`);
          assert.equal(resolved.coordinates.productVersion, release.productVersion);
          // It stands for the newest released image with the same pinned numbers.
          const pinned = [release.imageVersion, ...others].filter((v) => {
            const parsed = semver.parse(v)!;
            return parsed.prerelease.length === 0 && parsed.major === reading.floating?.major && (reading.floating.minor === undefined || parsed.minor === reading.floating.minor);
          });
          const newest = pinned.sort(semver.compare).at(-1);
          assert.equal(resolved.coordinates.imageVersion, newest);
          assert.equal(resolved.tag, formatTag(scheme, { ...release, imageVersion: newest! }));
        }
      }),
      RUNS,
    );
  });

  it("product versions parse back to the same text", () => {
    fc.assert(
      fc.property(productVersions, (text) => {
        assert.equal(parseProductVersion(text).text, text);
        assert.equal(compareProductVersions(text, text), 0);
      }),
      RUNS,
    );
  });
});

/** Nothing but ImagewrightError may come out of a parser, whatever goes in. */
function onlyOwnErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ImagewrightError)) throw error;
    assert.ok(error.message.length > 0);
    assert.equal(error.kind === "invalid-input" || error.kind === "usage", true, `kind ${error.kind}`);
  }
}

/** Strings near the grammar, so the fuzzing reaches deep into the parsers, plus fully arbitrary ones. */
const nearTags = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789.._-stackblerc{}kafn/+ "), maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 140 }),
  coordinates.map((c) => `${c.productVersion}_stackable${c.imageVersion!}`),
);

describe("fuzz: parsers throw only ImagewrightError", () => {
  const schemes = [...TAG_SCHEME_PRESETS.map((name) => tagScheme(name)), ...CUSTOM_SCHEMES.map((config) => tagScheme(config))];

  it("registry and git tag parsers", () => {
    fc.assert(
      fc.property(nearTags, fc.array(fc.oneof(products, fc.string({ maxLength: 8 })), { maxLength: 4 }), (text, productList) => {
        for (const scheme of schemes) {
          onlyOwnErrors(() => readTag(scheme, text));
          onlyOwnErrors(() => parseTag(scheme, text));
          onlyOwnErrors(() => readTag(scheme, text, { products: productList }));
          onlyOwnErrors(() => resolveFloatingTag(scheme, text, [text]));
          if (scheme.gitTag !== undefined) {
            onlyOwnErrors(() => readGitTag(scheme, text, productList));
            onlyOwnErrors(() => parseGitTag(scheme, text, PRODUCTS));
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("version parsers", () => {
    fc.assert(
      fc.property(nearTags, (text) => {
        onlyOwnErrors(() => parseProductVersion(text));
        onlyOwnErrors(() => parseImageVersion(text));
        onlyOwnErrors(() => parseOperatorVersion(text));
        onlyOwnErrors(() => compareProductVersions(text, "3.7.0"));
      }),
      { numRuns: 1000 },
    );
  });

  it("scheme builder on arbitrary templates and configurations", () => {
    let accepted = 0;
    let formatted = 0;
    const field = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom("{productVersion}", "{imageVersion}") },
      { weight: 1, arbitrary: fc.constantFrom("{imageVersion.major}", "{imageVersion.minor}", "{rc}", "{product}", "{vendor}") },
    );
    const separator = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("_", "-", ".", "rc", "-v", "_x_") },
      { weight: 1, arbitrary: fc.constantFrom("", "{", "}", "/", ":") },
    );
    const fieldsAndSeparators = fc
      .tuple(fc.constantFrom("", "v", "r"), fc.array(fc.tuple(field, separator), { minLength: 1, maxLength: 4 }))
      .map(([prefix, parts]) => prefix + parts.map(([f, sep]) => f + sep).join(""));
    const template = fc.oneof({ weight: 4, arbitrary: fieldsAndSeparators }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });
    const optionalTemplate = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: template });
    fc.assert(
      fc.property(
        fc.record({ registryTag: template, gitTag: optionalTemplate, rcRegistryTag: optionalTemplate, floatingTags: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(template, { maxLength: 1 }) }), vendor: fc.option(fc.oneof({ weight: 4, arbitrary: vendors }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }) }), { nil: undefined, freq: 5 }) }),
        coordinates,
        nearTags,
        (config, c, text) => {
          const clean = Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as TagSchemeConfig;
          let scheme;
          try {
            scheme = tagScheme(clean);
            accepted++;
          } catch (error) {
            onlyOwnErrors(() => {
              throw error;
            });
            return;
          }
          // A scheme that was accepted round-trips whatever it agrees to format.
          let tag: string | undefined;
          onlyOwnErrors(() => (tag = formatTag(scheme, c)));
          if (tag !== undefined) {
            formatted++;
            const parsed = parseTag(scheme, tag, { products: [c.product!] });
            assert.equal(formatTag(scheme, parsed), tag);
          }
          onlyOwnErrors(() => readTag(scheme, text));
        },
      ),
      { numRuns: 1500 },
    );
    // The generator must reach accepted schemes, or the round-trip half above tested nothing.
    assert.ok(accepted > 20, `accepted ${accepted} schemes`);
    assert.ok(formatted > 20, `formatted ${formatted} tags`);
  });

  it("scheme builder on values that are not configurations at all", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => onlyOwnErrors(() => tagScheme(value as TagSchemeConfig))),
      { numRuns: 500 },
    );
  });
});
