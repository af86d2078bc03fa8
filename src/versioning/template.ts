// Tag templates such as `{productVersion}_{vendor}{imageVersion}`: compiled once into
// literal and field parts, and matched against a tag by enumerating every way it fits.

import { ImagewrightError } from "../errors/index.ts";
import { isImageVersion } from "./semantic-version.ts";
import { isProductVersion } from "./product-version.ts";

export type FieldName = "product" | "productVersion" | "imageVersion" | "imageVersion.major" | "imageVersion.minor" | "rc";
export const FIELD_NAMES: readonly FieldName[] = ["product", "productVersion", "imageVersion", "imageVersion.major", "imageVersion.minor", "rc"];
/** `{vendor}` is not a field: the scheme's vendor word is written into the template as literal text. */
export const PLACEHOLDERS: readonly string[] = [...FIELD_NAMES, "vendor"];

/** What a template is for; decides which fields it must and must not have. */
export type TemplateRole = "registryTag" | "rcRegistryTag" | "floatingTag" | "gitTag" | "rcGitTag";

/** How messages name a template's role. */
export const ROLE_NAMES: Readonly<Record<TemplateRole, string>> = {
  registryTag: "registry tag",
  rcRegistryTag: "release-candidate registry tag",
  floatingTag: "floating tag",
  gitTag: "git tag",
  rcGitTag: "release-candidate git tag",
};

export type TemplatePart =
  | { readonly kind: "literal"; readonly text: string; readonly column: number }
  | { readonly kind: "field"; readonly name: FieldName; readonly column: number };

export interface CompiledTemplate {
  readonly role: TemplateRole;
  /** The template as configured, with `{vendor}` still in it. */
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  readonly fields: ReadonlySet<FieldName>;
}

/** The product name grammar when no product list is given: an OCI repository path component. */
export const PRODUCT_NAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const NUMBER_PATTERN = /^(?:0|[1-9][0-9]{0,15})$/;

export function isProductName(text: string): boolean {
  return text.length <= 128 && PRODUCT_NAME_PATTERN.test(text);
}

export function isFieldValue(name: FieldName, text: string): boolean {
  switch (name) {
    case "product":
      return isProductName(text);
    case "productVersion":
      return isProductVersion(text);
    case "imageVersion":
      return isImageVersion(text);
    case "imageVersion.major":
    case "imageVersion.minor":
    case "rc":
      // SemVer numbers go up to Number.MAX_SAFE_INTEGER (16 digits); beyond it they would not read back.
      return NUMBER_PATTERN.test(text) && Number.isSafeInteger(Number(text));
  }
}

/** The longest stretch a field could cover from a position; every value is a prefix of it. */
const FIELD_SPAN: Readonly<Record<FieldName, RegExp>> = {
  product: /[a-z0-9._-]+/y,
  productVersion: /[0-9][0-9A-Za-z.]*/y,
  imageVersion: /[0-9][0-9A-Za-z.-]*/y,
  "imageVersion.major": /[0-9]+/y,
  "imageVersion.minor": /[0-9]+/y,
  rc: /[0-9]+/y,
};

export const FIELD_DESCRIPTIONS: Readonly<Record<FieldName, string>> = {
  product: "a product name",
  productVersion: "a product version (digits first, e.g. 3.7.0)",
  imageVersion: "an image version (SemVer, e.g. 0.1.0)",
  "imageVersion.major": "the image version's major number",
  "imageVersion.minor": "the image version's minor number",
  rc: "a release-candidate number",
};

function templateError(role: TemplateRole, source: string, message: string, column?: number): ImagewrightError {
  return new ImagewrightError("invalid-input", `${ROLE_NAMES[role]} template ${JSON.stringify(source)}: ${message}`, {
    input: `tag scheme ${role} template ${JSON.stringify(source)}`,
    ...(column === undefined ? {} : { place: `${role}, character ${column}` }),
    hint: `placeholders are ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}`,
  });
}

/** Characters a literal may hold: what an OCI tag allows, or for git tags what git allows in a ref. */
function literalCharacterAllowed(role: TemplateRole, ch: string): boolean {
  if (role === "gitTag" || role === "rcGitTag") {
    const code = ch.charCodeAt(0);
    return code > 0x20 && code !== 0x7f && !"~^:?*[\\".includes(ch);
  }
  return /[a-zA-Z0-9._-]/.test(ch);
}

/**
 * Compiles a template and refuses the ones that can never be read back unambiguously:
 * unknown placeholders, no product version, two fields with nothing between them
 * (a list-bound `{product}` in git tags excepted), and fields the role does not allow.
 */
export function compileTemplate(role: TemplateRole, source: string, vendor: string | undefined): CompiledTemplate {
  const parts: TemplatePart[] = [];
  let literal = "";
  let literalColumn = 1;
  const flush = (): void => {
    if (literal.length > 0) parts.push({ kind: "literal", text: literal, column: literalColumn });
    literal = "";
  };
  for (let i = 0; i < source.length; ) {
    const ch = source[i] ?? "";
    if (ch === "{") {
      const close = source.indexOf("}", i);
      if (close < 0) throw templateError(role, source, `"{" at character ${i + 1} is never closed`, i + 1);
      const name = source.slice(i + 1, close);
      if (name === "vendor") {
        if (vendor === undefined) throw templateError(role, source, "uses {vendor} but the scheme has no vendor word", i + 1);
        if (literal.length === 0) literalColumn = i + 1;
        literal += vendor;
      } else if ((FIELD_NAMES as readonly string[]).includes(name)) {
        flush();
        parts.push({ kind: "field", name: name as FieldName, column: i + 1 });
      } else {
        throw templateError(role, source, `unknown placeholder {${name}} at character ${i + 1}`, i + 1);
      }
      i = close + 1;
      continue;
    }
    if (ch === "}") throw templateError(role, source, `"}" at character ${i + 1} has no matching "{"`, i + 1);
    if (!literalCharacterAllowed(role, ch)) {
      throw templateError(role, source, `${JSON.stringify(ch)} at character ${i + 1} cannot appear in a ${role === "gitTag" || role === "rcGitTag" ? "git" : "registry"} tag`, i + 1);
    }
    if (literal.length === 0) literalColumn = i + 1;
    literal += ch;
    i++;
  }
  flush();

  const fields = new Set<FieldName>(parts.flatMap((part) => (part.kind === "field" ? [part.name] : [])));
  const isGit = role === "gitTag" || role === "rcGitTag";
  if (!fields.has("productVersion")) throw templateError(role, source, "has no {productVersion}, so a tag could not say what it packages");
  const isRc = role === "rcRegistryTag" || role === "rcGitTag";
  if (isRc && !fields.has("rc")) throw templateError(role, source, "is a release-candidate template without {rc}");
  if (!isRc && fields.has("rc")) throw templateError(role, source, "uses {rc}, which only release-candidate templates may");
  if (role === "floatingTag" && fields.has("imageVersion")) {
    throw templateError(role, source, "uses the full {imageVersion}, so it would not float; use {imageVersion.major} or {imageVersion.minor}");
  }
  if (role !== "floatingTag" && (fields.has("imageVersion.major") || fields.has("imageVersion.minor")) && !fields.has("imageVersion")) {
    throw templateError(role, source, "uses part of the image version without {imageVersion}; only floating tags may do that");
  }
  if (fields.has("imageVersion.minor") && !fields.has("imageVersion.major") && !fields.has("imageVersion")) {
    throw templateError(role, source, "uses {imageVersion.minor} without {imageVersion.major}, which would mix different major versions");
  }
  for (let i = 1; i < parts.length; i++) {
    const before = parts[i - 1];
    const after = parts[i];
    if (before?.kind !== "field" || after?.kind !== "field") continue;
    // In git tags the product comes from the catalog's list, so it ends where a listed name ends.
    const listBound = isGit && (before.name === "product" || after.name === "product");
    if (!listBound) {
      throw templateError(
        role,
        source,
        `{${before.name}} and {${after.name}} at character ${after.column} have nothing between them, so a tag could be split between them in more than one way`,
        after.column,
      );
    }
  }
  const first = parts[0];
  if (!isGit && first?.kind === "literal" && !/^[a-zA-Z0-9_]/.test(first.text)) {
    throw templateError(role, source, `a registry tag cannot start with ${JSON.stringify(first.text[0])}`, 1);
  }
  return { role, source, parts, fields };
}

/** One way a tag fits a template: the text each field covered. */
export type FieldValues = Partial<Record<FieldName, string>>;

export interface TemplateMatch {
  readonly readings: FieldValues[];
  /** Where matching got furthest (0-based) and what was expected there, when nothing fit. */
  readonly furthest: { index: number; expected: string[] };
}

/**
 * Every way `text` fits the template. `products`, when given, bounds `{product}` to those names
 * exactly; otherwise it is read with the product-name grammar. Readings whose repeated or
 * derived fields disagree (`{imageVersion}` and a different `{imageVersion.major}`) are dropped.
 */
export function matchTemplate(template: CompiledTemplate, text: string, products?: readonly string[]): TemplateMatch {
  const readings: FieldValues[] = [];
  const furthest = { index: -1, expected: [] as string[] };
  const fail = (index: number, expected: string): void => {
    if (index > furthest.index) {
      furthest.index = index;
      furthest.expected = [expected];
    } else if (index === furthest.index && !furthest.expected.includes(expected)) {
      furthest.expected.push(expected);
    }
  };
  const parts = template.parts;
  // A field may appear twice, so a dead end depends on what was bound before; only memoise when none repeats.
  const fieldCount = parts.filter((part) => part.kind === "field").length;
  const memoise = fieldCount === template.fields.size;
  const deadEnds = new Set<number>();

  const walk = (partIndex: number, position: number, bound: FieldValues): boolean => {
    const key = partIndex * (text.length + 1) + position;
    if (memoise && deadEnds.has(key)) return false;
    let found = false;
    const part = parts[partIndex];
    if (part === undefined) {
      if (position === text.length) {
        readings.push({ ...bound });
        found = true;
      } else {
        fail(position, "the end of the tag");
      }
    } else if (part.kind === "literal") {
      if (text.startsWith(part.text, position)) {
        found = walk(partIndex + 1, position + part.text.length, bound);
      } else {
        let same = 0;
        while (same < part.text.length && text[position + same] === part.text[same]) same++;
        fail(position + same, same === 0 ? JSON.stringify(part.text) : `${JSON.stringify(part.text.slice(same))} (the rest of ${JSON.stringify(part.text)})`);
      }
    } else {
      const ends = fieldEnds(part.name, text, position, products);
      if (ends.length === 0) fail(position, part.name === "product" && products !== undefined ? `one of the products ${products.join(", ")}` : FIELD_DESCRIPTIONS[part.name]);
      for (const end of ends) {
        const value = text.slice(position, end);
        const earlier = bound[part.name];
        if (earlier !== undefined && earlier !== value) {
          fail(position, `${JSON.stringify(earlier)} again (the same {${part.name}} as before)`);
          continue;
        }
        const next = { ...bound, [part.name]: value };
        if (walk(partIndex + 1, end, next)) found = true;
      }
    }
    if (!found && memoise) deadEnds.add(key);
    return found;
  };
  walk(0, 0, {});
  return { readings: readings.filter(consistent), furthest };
}

function fieldEnds(name: FieldName, text: string, position: number, products?: readonly string[]): number[] {
  if (name === "product" && products !== undefined) {
    return products.filter((product) => product.length > 0 && text.startsWith(product, position)).map((product) => position + product.length);
  }
  const span = FIELD_SPAN[name];
  span.lastIndex = position;
  const match = span.exec(text);
  if (match === null) return [];
  const ends: number[] = [];
  // Longest first, so readings come out in a stable, greedy-first order.
  for (let end = position + match[0].length; end > position; end--) {
    if (isFieldValue(name, text.slice(position, end))) ends.push(end);
  }
  return ends;
}

function consistent(values: FieldValues): boolean {
  const full = values.imageVersion;
  if (full === undefined) return true;
  const [major, minor] = full.split(".");
  if (values["imageVersion.major"] !== undefined && values["imageVersion.major"] !== major) return false;
  if (values["imageVersion.minor"] !== undefined && values["imageVersion.minor"] !== minor) return false;
  return true;
}

/** Writes field values into a template; the caller has checked every value. */
export function renderTemplate(template: CompiledTemplate, values: FieldValues): string {
  return template.parts
    .map((part) => {
      if (part.kind === "literal") return part.text;
      const value = values[part.name];
      if (value === undefined) throw new Error(`renderTemplate: no value for {${part.name}}`);
      return value;
    })
    .join("");
}
