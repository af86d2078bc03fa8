// Tag schemes: how (product, product version, image version, rc) becomes a registry tag
// and a git tag, and back. Schemes are data: the presets of both seed documents, or
// templates the user writes. Formatting and parsing round-trip exactly.

import { ImagewrightError } from "../errors/index.ts";
import { parseProductVersion } from "./product-version.ts";
import { imageVersionMajor, imageVersionMinor, isImageVersionPrerelease, parseImageVersion } from "./semantic-version.ts";
import { checkGitTag, checkOciTag, isOciTag } from "./tag-grammar.ts";
import {
  compileTemplate,
  isProductName,
  matchTemplate,
  renderTemplate,
  ROLE_NAMES,
  type CompiledTemplate,
  type FieldName,
  type FieldValues,
  type TemplateRole,
} from "./template.ts";

export type TagSchemeConfig =
  | string // preset name: "stackable" | "stackable-legacy" | "kafka"
  | { preset: string; vendor?: string }
  | {
      registryTag: string;
      gitTag?: string;
      rcRegistryTag?: string;
      rcGitTag?: string;
      floatingTags?: string[];
      vendor?: string;
      /** Shown in output; "custom" when not given. */
      name?: string;
      /** Image names by flavour, e.g. { jvm: "kafka", native: "kafka-native" }. */
      imageNames?: Record<string, string>;
    };

export interface TagScheme {
  readonly name: string;
  readonly vendor: string | undefined;
  readonly registryTag: string;
  readonly gitTag: string | undefined;
  readonly rcRegistryTag: string | undefined;
  readonly rcGitTag: string | undefined;
  readonly floatingTags: readonly string[];
  /** Image (repository) names by flavour where the scheme names them; empty when the image is named after the product. */
  readonly imageNames: Readonly<Record<string, string>>;
}

export interface ImageCoordinates {
  product?: string;
  productVersion: string;
  imageVersion?: string;
  rc?: number;
}

/** What kind of tag a reading is: a release, a release candidate, or a floating tag standing for the newest release. */
export type TagKind = "release" | "rc" | "floating";

export interface TagReading {
  readonly tag: string;
  readonly kind: TagKind;
  /** The template (as configured) that the tag fits. */
  readonly template: string;
  readonly coordinates: ImageCoordinates;
  /** For floating tags: the image version numbers the tag pins; the rest floats. */
  readonly floating?: { readonly major?: number; readonly minor?: number };
}

export const DEFAULT_VENDOR = "stackable";

interface PresetDefinition {
  readonly registryTag: string;
  readonly gitTag: string;
  readonly rcRegistryTag?: string;
  readonly rcGitTag?: string;
  readonly floatingTags?: readonly string[];
  readonly usesVendor: boolean;
  readonly imageNames?: Readonly<Record<string, string>>;
}

const PRESETS: Readonly<Record<string, PresetDefinition>> = {
  // ADR018 (seed 004): registry 2.8.0_stackable0.1.0, git kafka2.8.0_stackable0.1.0.
  stackable: {
    registryTag: "{productVersion}_{vendor}{imageVersion}",
    gitTag: "{product}{productVersion}_{vendor}{imageVersion}",
    usesVendor: true,
  },
  // The form ADR018 replaced: 2.8.0-stackable0.1.0 plus a floating 2.8.0-stackable0 per image major.
  "stackable-legacy": {
    registryTag: "{productVersion}-{vendor}{imageVersion}",
    gitTag: "{product}{productVersion}-{vendor}{imageVersion}",
    floatingTags: ["{productVersion}-{vendor}{imageVersion.major}"],
    usesVendor: true,
  },
  // KIP-974 (seed 000): apache/kafka:3.7.0 and apache/kafka-native:3.7.0; RCs 3.7.0-rc0; git tags as Kafka's own.
  kafka: {
    registryTag: "{productVersion}",
    gitTag: "{productVersion}",
    rcRegistryTag: "{productVersion}-rc{rc}",
    rcGitTag: "{productVersion}-rc{rc}",
    usesVendor: false,
    imageNames: { jvm: "kafka", native: "kafka-native" },
  },
};

export const TAG_SCHEME_PRESETS: readonly string[] = Object.keys(PRESETS);

/** A vendor word ends with a letter, so where it stops and the image version starts is visible. */
export const VENDOR_PATTERN = /^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z])?$/;

interface CompiledScheme {
  readonly registry: readonly CompiledTemplate[];
  readonly git: readonly CompiledTemplate[];
}

const compiledSchemes = new WeakMap<TagScheme, CompiledScheme>();
const presetCache = new Map<string, TagScheme>();

function configError(message: string, place?: string, hint?: string): ImagewrightError {
  return new ImagewrightError("invalid-input", message, {
    input: "tag scheme",
    ...(place === undefined ? {} : { place }),
    ...(hint === undefined ? {} : { hint }),
  });
}

function checkVendor(vendor: unknown, place: string): string | undefined {
  if (vendor === undefined) return undefined;
  if (typeof vendor !== "string" || !VENDOR_PATTERN.test(vendor) || vendor.length > 64) {
    throw configError(`vendor word ${JSON.stringify(vendor)} is not valid`, place, "a vendor word is letters, digits and '-', starts and ends with a letter, e.g. stackable, acme");
  }
  return vendor;
}

function checkString(value: unknown, place: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw configError(`${place} must be a string, not ${JSON.stringify(value)}`, place);
  return value;
}

const CUSTOM_KEYS = ["registryTag", "gitTag", "rcRegistryTag", "rcGitTag", "floatingTags", "vendor", "name", "imageNames"];

/** Builds a tag scheme from a preset name or templates; throws invalid-input for a scheme that cannot round-trip. */
export function tagScheme(config: TagSchemeConfig): TagScheme {
  if (typeof config === "string") return presetScheme(config, undefined, "tagScheme");
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw configError(`a tag scheme is a preset name or an object, not ${JSON.stringify(config)}`, "tagScheme");
  }
  const record = config as Record<string, unknown>;
  if ("preset" in record) {
    for (const key of Object.keys(record)) {
      if (key !== "preset" && key !== "vendor") throw configError(`unknown key ${JSON.stringify(key)} next to "preset"`, `tagScheme.${key}`, 'a preset takes only "vendor"');
    }
    const preset = checkString(record.preset, "tagScheme.preset") ?? "";
    return presetScheme(preset, checkVendor(record.vendor, "tagScheme.vendor"), "tagScheme.preset");
  }
  for (const key of Object.keys(record)) {
    if (!CUSTOM_KEYS.includes(key)) throw configError(`unknown key ${JSON.stringify(key)}`, `tagScheme.${key}`, `keys are preset, vendor or ${CUSTOM_KEYS.join(", ")}`);
  }
  const registryTag = checkString(record.registryTag, "tagScheme.registryTag");
  if (registryTag === undefined) throw configError('a custom tag scheme needs "registryTag" (or use "preset")', "tagScheme", `presets: ${TAG_SCHEME_PRESETS.join(", ")}`);
  const floating = record.floatingTags;
  if (floating !== undefined && (!Array.isArray(floating) || floating.some((t) => typeof t !== "string"))) {
    throw configError("floatingTags must be a list of templates", "tagScheme.floatingTags");
  }
  const imageNames = record.imageNames;
  if (imageNames !== undefined) {
    if (typeof imageNames !== "object" || imageNames === null || Array.isArray(imageNames)) throw configError("imageNames must map flavours to image names", "tagScheme.imageNames");
    for (const [flavour, name] of Object.entries(imageNames)) {
      if (typeof name !== "string" || !isProductName(name)) throw configError(`image name ${JSON.stringify(name)} is not a valid repository name`, `tagScheme.imageNames.${flavour}`);
    }
  }
  return buildScheme({
    name: checkString(record.name, "tagScheme.name") ?? "custom",
    vendor: checkVendor(record.vendor, "tagScheme.vendor"),
    registryTag,
    gitTag: checkString(record.gitTag, "tagScheme.gitTag"),
    rcRegistryTag: checkString(record.rcRegistryTag, "tagScheme.rcRegistryTag"),
    rcGitTag: checkString(record.rcGitTag, "tagScheme.rcGitTag"),
    floatingTags: Object.freeze([...((floating as string[] | undefined) ?? [])]),
    imageNames: Object.freeze({ ...((imageNames as Record<string, string> | undefined) ?? {}) }),
  });
}

function presetScheme(name: string, vendor: string | undefined, place: string): TagScheme {
  // hasOwn: "toString" or "__proto__" must not find something on Object.prototype.
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (preset === undefined) {
    throw configError(`unknown tag scheme preset ${JSON.stringify(name)}`, place, `presets: ${TAG_SCHEME_PRESETS.join(", ")}; or give templates`);
  }
  const key = `${name}\u0000${vendor ?? ""}`;
  const cached = presetCache.get(key);
  if (cached !== undefined) return cached;
  const scheme = buildScheme({
    name,
    vendor: preset.usesVendor ? (vendor ?? DEFAULT_VENDOR) : vendor,
    registryTag: preset.registryTag,
    gitTag: preset.gitTag,
    rcRegistryTag: preset.rcRegistryTag,
    rcGitTag: preset.rcGitTag,
    floatingTags: Object.freeze([...(preset.floatingTags ?? [])]),
    imageNames: Object.freeze({ ...(preset.imageNames ?? {}) }),
  });
  presetCache.set(key, scheme);
  return scheme;
}

function buildScheme(scheme: TagScheme): TagScheme {
  const frozen = Object.freeze({ ...scheme });
  compiledSchemes.set(frozen, compileScheme(frozen));
  probeScheme(frozen);
  return frozen;
}

function compileScheme(scheme: TagScheme): CompiledScheme {
  const compile = (role: TemplateRole, source: string | undefined): CompiledTemplate[] =>
    source === undefined ? [] : [compileTemplate(role, source, scheme.vendor)];
  const registry = [
    ...compile("registryTag", scheme.registryTag),
    ...compile("rcRegistryTag", scheme.rcRegistryTag),
    ...scheme.floatingTags.flatMap((source) => compile("floatingTag", source)),
  ];
  const git = [...compile("gitTag", scheme.gitTag), ...compile("rcGitTag", scheme.rcGitTag)];
  if (scheme.rcGitTag !== undefined && scheme.gitTag === undefined) {
    throw configError("rcGitTag is given without gitTag", "tagScheme.rcGitTag");
  }
  return { registry, git };
}

/** The compiled templates of a scheme; schemes written as plain objects are compiled on first use. */
function compiled(scheme: TagScheme): CompiledScheme {
  let result = compiledSchemes.get(scheme);
  if (result === undefined) {
    result = compileScheme(scheme);
    compiledSchemes.set(scheme, result);
  }
  return result;
}

/** Sample coordinates, chosen to exercise one-segment, two-segment and long product versions. */
const PROBE_PRODUCTS = ["kafka", "kafka-native"] as const;
const PROBE_SAMPLES: readonly ImageCoordinates[] = [
  { product: "kafka", productVersion: "3.7.0", imageVersion: "0.1.0", rc: 0 },
  { product: "kafka-native", productVersion: "403", imageVersion: "1.12.3", rc: 1 },
  { product: "kafka", productVersion: "2.13", imageVersion: "10.0.0", rc: 10 },
  { product: "kafka-native", productVersion: "24.7.0.1", imageVersion: "0.0.1", rc: 2 },
];

/**
 * Refuses templates that do not read back what they wrote, e.g. `{productVersion}.{imageVersion}`
 * reading `3.7.0.0.1.0` also as another split, or a floating template equal to the release one.
 */
function probeScheme(scheme: TagScheme): void {
  for (const sample of PROBE_SAMPLES) {
    const release = { ...sample, rc: undefined };
    const attempts: Array<() => unknown> = [() => formatTag(scheme, release), () => floatingTags(scheme, release)];
    if (scheme.rcRegistryTag !== undefined) attempts.push(() => formatTag(scheme, sample));
    if (scheme.gitTag !== undefined) {
      attempts.push(() => parseGitTag(scheme, formatGitTag(scheme, release), PROBE_PRODUCTS));
    }
    if (scheme.rcGitTag !== undefined) attempts.push(() => parseGitTag(scheme, formatGitTag(scheme, sample), PROBE_PRODUCTS));
    for (const attempt of attempts) {
      try {
        attempt();
      } catch (error) {
        if (error instanceof ImagewrightError) {
          throw new ImagewrightError("invalid-input", `tag scheme ${scheme.name} cannot be read back unambiguously: ${error.message}`, {
            input: "tag scheme",
            place: error.place,
            hint: "put a literal separator that no field can contain (such as _ or -) between the fields",
            cause: error,
          });
        }
        throw error;
      }
    }
  }
}

function describeFields(values: FieldValues): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join(", ");
}

function roleKind(role: TemplateRole): TagKind {
  if (role === "rcRegistryTag" || role === "rcGitTag") return "rc";
  if (role === "floatingTag") return "floating";
  return "release";
}

function readingFrom(tag: string, template: CompiledTemplate, values: FieldValues): TagReading {
  const coordinates: ImageCoordinates = { productVersion: values.productVersion ?? "" };
  if (values.product !== undefined) coordinates.product = values.product;
  if (values.imageVersion !== undefined) coordinates.imageVersion = values.imageVersion;
  if (values.rc !== undefined) coordinates.rc = Number(values.rc);
  const kind = roleKind(template.role);
  if (kind !== "floating") return { tag, kind, template: template.source, coordinates };
  const floating: { major?: number; minor?: number } = {};
  if (values["imageVersion.major"] !== undefined) floating.major = Number(values["imageVersion.major"]);
  if (values["imageVersion.minor"] !== undefined) floating.minor = Number(values["imageVersion.minor"]);
  return { tag, kind, template: template.source, coordinates, floating };
}

function readAgainst(
  what: "tag" | "git tag",
  scheme: TagScheme,
  templates: readonly CompiledTemplate[],
  text: string,
  products: readonly string[] | undefined,
): TagReading {
  const readings: Array<{ template: CompiledTemplate; values: FieldValues }> = [];
  const failures: Array<{ template: CompiledTemplate; index: number; expected: string[] }> = [];
  for (const template of templates) {
    const match = matchTemplate(template, text, products);
    for (const values of match.readings) readings.push({ template, values });
    if (match.readings.length === 0) failures.push({ template, ...match.furthest });
  }
  const input = `${what} ${JSON.stringify(text)}`;
  if (readings.length === 1) {
    const only = readings[0]!;
    return readingFrom(text, only.template, only.values);
  }
  if (readings.length > 1) {
    const listed = readings.map((r, i) => `(${i + 1}) ${describeFields(r.values)} [${ROLE_NAMES[r.template.role]} ${r.template.source}]`).join("; ");
    throw new ImagewrightError("invalid-input", `${input} is ambiguous under tag scheme ${scheme.name}: it reads as ${listed}`, {
      input,
      hint: "a tag must have exactly one reading; use a scheme whose fields are separated by literal text",
    });
  }
  const best = Math.max(...failures.map((f) => f.index));
  const reasons = failures.map((f) => {
    const found = f.index >= text.length ? "the end of the tag" : JSON.stringify(text.slice(f.index, f.index + 12));
    return `${ROLE_NAMES[f.template.role]} ${f.template.source}: at character ${f.index + 1} expected ${f.expected.join(" or ")}, found ${found}`;
  });
  throw new ImagewrightError("invalid-input", `${input} does not fit tag scheme ${scheme.name}: ${reasons.join("; ")}`, {
    input,
    place: `character ${best + 1}`,
    hint: `tag scheme ${scheme.name} writes ${what}s like ${templates.map((t) => t.source).join(" or ")}`,
  });
}

/**
 * Reads a registry tag every way the scheme allows: release, release candidate or floating tag.
 * `products` bounds `{product}` when the scheme's registry tags carry one.
 */
export function readTag(scheme: TagScheme, tag: string, options: { products?: readonly string[] } = {}): TagReading {
  checkOciTag(tag);
  return readAgainst("tag", scheme, compiled(scheme).registry, tag, options.products === undefined ? undefined : checkProducts(options.products));
}

/** The coordinates of a concrete registry tag (a release or release candidate). */
export function parseTag(scheme: TagScheme, tag: string, options: { products?: readonly string[] } = {}): ImageCoordinates {
  const reading = readTag(scheme, tag, options);
  if (reading.kind === "floating") {
    throw new ImagewrightError("invalid-input", `tag ${JSON.stringify(tag)} is a floating tag (${reading.template}) that stands for the newest matching image, not one image`, {
      input: `tag ${JSON.stringify(tag)}`,
      hint: "resolve it against the repository's tags (resolveFloatingTag) to get the concrete tag",
    });
  }
  return reading.coordinates;
}

function checkProducts(products: readonly string[]): readonly string[] {
  products.forEach((product, i) => {
    if (!isProductName(product)) {
      throw new ImagewrightError("invalid-input", `product name ${JSON.stringify(product)} is not valid`, {
        input: `product list`,
        place: `product ${i + 1}`,
        hint: "a product name is lowercase letters and digits, optionally separated by '.', '_' or '-'",
      });
    }
  });
  return products;
}

function gitTemplates(scheme: TagScheme): readonly CompiledTemplate[] {
  const git = compiled(scheme).git;
  if (git.length === 0) {
    throw new ImagewrightError("invalid-input", `tag scheme ${scheme.name} has no git tag template`, {
      input: "tag scheme",
      hint: 'give "gitTag" in the tag scheme',
    });
  }
  return git;
}

/** Reads a git tag; `products` (the catalog's products) decides exactly where the product name ends. */
export function readGitTag(scheme: TagScheme, gitTag: string, products: readonly string[]): TagReading {
  checkGitTag(gitTag);
  const templates = gitTemplates(scheme);
  checkProducts(products);
  if (products.length === 0 && templates.some((t) => t.fields.has("product"))) {
    throw new ImagewrightError("usage", `reading git tag ${JSON.stringify(gitTag)} needs the list of products`, {
      input: `git tag ${JSON.stringify(gitTag)}`,
      hint: "pass the catalog's product names",
    });
  }
  return readAgainst("git tag", scheme, templates, gitTag, products);
}

export function parseGitTag(scheme: TagScheme, gitTag: string, products: readonly string[]): ImageCoordinates {
  return readGitTag(scheme, gitTag, products).coordinates;
}

/** Checks coordinates against what a template needs, and returns the field values to write. */
function fieldValues(template: CompiledTemplate, c: ImageCoordinates, scheme: TagScheme): FieldValues {
  const values: FieldValues = {};
  const missing = (field: string): ImagewrightError =>
    new ImagewrightError("invalid-input", `tag scheme ${scheme.name} needs ${field} for its ${ROLE_NAMES[template.role]} ${template.source}`, {
      input: "image coordinates",
      hint: `give ${field}`,
    });
  const needs = (name: FieldName): boolean => template.fields.has(name);
  values.productVersion = parseProductVersion(c.productVersion).text;
  if (needs("product")) {
    if (c.product === undefined) throw missing("a product");
    if (!isProductName(c.product)) {
      throw new ImagewrightError("invalid-input", `product name ${JSON.stringify(c.product)} is not valid`, {
        input: `product ${JSON.stringify(c.product)}`,
        hint: "a product name is lowercase letters and digits, optionally separated by '.', '_' or '-'",
      });
    }
    values.product = c.product;
  }
  if (needs("imageVersion") || needs("imageVersion.major") || needs("imageVersion.minor")) {
    if (c.imageVersion === undefined) throw missing("an image version");
    const imageVersion = parseImageVersion(c.imageVersion);
    if (needs("imageVersion")) values.imageVersion = imageVersion;
    if (needs("imageVersion.major")) values["imageVersion.major"] = String(imageVersionMajor(imageVersion));
    if (needs("imageVersion.minor")) values["imageVersion.minor"] = String(imageVersionMinor(imageVersion));
  }
  if (needs("rc")) {
    if (c.rc === undefined) throw missing("a release-candidate number");
    if (!Number.isSafeInteger(c.rc) || c.rc < 0) {
      throw new ImagewrightError("invalid-input", `release-candidate number ${String(c.rc)} is not a whole number 0 or above`, { input: `rc ${String(c.rc)}` });
    }
    values.rc = String(c.rc);
  }
  return values;
}

function pick(templates: readonly CompiledTemplate[], role: TemplateRole, scheme: TagScheme, what: string): CompiledTemplate {
  const template = templates.find((t) => t.role === role);
  if (template === undefined) {
    throw new ImagewrightError("invalid-input", `tag scheme ${scheme.name} has no ${what}`, {
      input: "image coordinates",
      hint: role.startsWith("rc") ? "leave out the release-candidate number, or use a scheme with RC templates (e.g. kafka)" : undefined,
    });
  }
  return template;
}

/** Checks that `tag` reads back as exactly `values`; this is what makes format→parse an identity. */
function checkRoundTrip(tag: string, reading: TagReading, expected: ImageCoordinates, what: string): void {
  const got = reading.coordinates;
  const same =
    got.productVersion === expected.productVersion &&
    got.product === expected.product &&
    got.imageVersion === expected.imageVersion &&
    got.rc === expected.rc;
  if (!same) {
    throw new ImagewrightError("invalid-input", `${what} ${JSON.stringify(tag)} would read back as ${JSON.stringify(got)}, not as written`, {
      input: `${what} ${JSON.stringify(tag)}`,
    });
  }
}

function written(template: CompiledTemplate, values: FieldValues): ImageCoordinates {
  const c: ImageCoordinates = { productVersion: values.productVersion ?? "" };
  if (template.fields.has("product")) c.product = values.product;
  if (template.fields.has("imageVersion")) c.imageVersion = values.imageVersion;
  if (template.fields.has("rc")) c.rc = Number(values.rc);
  return c;
}

/**
 * The registry tag for an image; the release-candidate template when `c.rc` is set. Fields the
 * template does not use are left out (the kafka preset carries no image version in its tags).
 */
export function formatTag(scheme: TagScheme, c: ImageCoordinates): string {
  const template = pick(compiled(scheme).registry, c.rc === undefined ? "registryTag" : "rcRegistryTag", scheme, "release-candidate registry tag template");
  const values = fieldValues(template, c, scheme);
  const tag = checkOciTag(renderTemplate(template, values));
  const reading = readTag(scheme, tag, values.product === undefined ? {} : { products: [values.product] });
  checkRoundTrip(tag, reading, written(template, values), "tag");
  return tag;
}

/** The git tag that makes CI build exactly this image; needs `c.product` when the template names it. */
export function formatGitTag(scheme: TagScheme, c: ImageCoordinates): string {
  const templates = gitTemplates(scheme);
  const template = pick(templates, c.rc === undefined ? "gitTag" : "rcGitTag", scheme, "release-candidate git tag template");
  const values = fieldValues(template, c, scheme);
  const gitTag = checkGitTag(renderTemplate(template, values));
  const reading = readGitTag(scheme, gitTag, values.product === undefined ? [] : [values.product]);
  checkRoundTrip(gitTag, reading, written(template, values), "git tag");
  return gitTag;
}

/**
 * The floating tags an image release also gets. None for release candidates or pre-release image
 * versions: a floating tag stands for the newest *release*, and resolveFloatingTag agrees.
 */
export function floatingTags(scheme: TagScheme, c: ImageCoordinates): string[] {
  if (c.rc !== undefined) return [];
  if (c.imageVersion !== undefined && isImageVersionPrerelease(c.imageVersion)) return [];
  return compiled(scheme)
    .registry.filter((t) => t.role === "floatingTag")
    .map((template) => {
      const tag = renderTemplate(template, fieldValues(template, c, scheme));
      if (!isOciTag(tag)) checkOciTag(tag, "floating tag");
      const reading = readTag(scheme, tag, c.product === undefined ? {} : { products: [c.product] });
      if (reading.kind !== "floating") {
        throw new ImagewrightError("invalid-input", `floating tag ${JSON.stringify(tag)} reads back as a ${reading.kind} tag`, { input: `floating tag ${JSON.stringify(tag)}` });
      }
      return tag;
    });
}
