// Reads a compatibility matrix source (YAML) into a Matrix: syntax and schema
// errors name the file, line and column; contradicting rules name both rules.

import { createHash } from "node:crypto";
import semver from "semver";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
import { z } from "zod";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { tagScheme } from "../versioning/index.ts";
import type { TagSchemeConfig } from "../versioning/index.ts";
import { COMPAT_STATES, formatPosition } from "./model.ts";
import type { Matrix, Rule, SourcePosition } from "./model.ts";

export const MATRIX_API_VERSION = "imagewright.dev/v1";
export const MATRIX_KIND = "CompatibilityMatrix";

/** How positions inside an embedded document (a ConfigMap data string) map to the outer file. */
export interface Embedding {
  file: string;
  key: string;
  /** Outer line and column of an inner one, or undefined where the embedding cannot say (quoted strings). */
  outer(line: number, column: number): { line: number; column: number } | undefined;
}

export interface SourceOrigin {
  /** The file name as the user gave it (or `<stdin>`). */
  name: string;
  embedding?: Embedding;
}

const stateSchema = z.enum(COMPAT_STATES);
const rangeSchema = z
  .string()
  .min(1)
  .refine((text) => semver.validRange(text) !== null, { message: "not a SemVer range (e.g. \">=0.2.0 <0.3.0\")" });
const versionSchema = z
  .string()
  .refine((text) => semver.valid(text) !== null, { message: "not a SemVer version (e.g. \"0.2.1\")" });
const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, '.', '_' or '-'");

const ruleSchema = z.strictObject({
  operator: rangeSchema,
  product: nameSchema,
  productVersions: z.union([z.literal("*"), z.array(z.string().min(1)).min(1)]),
  images: z.union([rangeSchema, z.array(versionSchema).min(1)]),
  state: stateSchema,
  note: z.string().optional(),
});

const matrixSchema = z.strictObject({
  apiVersion: z.literal(MATRIX_API_VERSION),
  kind: z.literal(MATRIX_KIND),
  registry: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:[0-9]+)?$/, "a registry host, optionally with a port (e.g. 127.0.0.1:5000)")
    .optional(),
  organisation: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "a repository path such as 'stackable'").optional(),
  tagScheme: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  vendor: z.string().regex(/^[a-z][a-z0-9]*$/, "lower-case letters and digits, starting with a letter").optional(),
  uncovered: stateSchema.default("unsupported"),
  products: z.record(nameSchema, z.strictObject({ repository: z.string().min(1).optional() })).default({}),
  rules: z.array(ruleSchema),
});

/** Reads matrix source text; throws invalid-input naming the place of the first problem. */
export function parseMatrixSource(text: string, origin: SourceOrigin): Matrix {
  const lineCounter = new LineCounter();
  // The failsafe schema keeps every scalar a string: product version 3.10 must not become the number 3.1.
  const document = parseDocument(text, { lineCounter, schema: "failsafe", prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourcePosition => positionOf(lineCounter, offset, origin);
  const input = inputName(origin);

  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    throw new ImagewrightError("invalid-input", `compatibility matrix is not valid YAML: ${firstLine(syntaxError.message)}`, {
      input,
      place: formatPosition(position(syntaxError.pos[0])),
    });
  }
  if (document.contents === null) {
    throw new ImagewrightError("invalid-input", "compatibility matrix is empty", { input, place: formatPosition(position(0)) });
  }

  const parsed = matrixSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).map((key) => (typeof key === "number" ? key : String(key)));
    // An unknown key is reported on its parent; point at the key itself.
    const unknownKey = issue?.code === "unrecognized_keys" ? issue.keys[0] : undefined;
    if (unknownKey !== undefined) path.push(unknownKey);
    throw new ImagewrightError("invalid-input", `compatibility matrix: ${jsonPath(path)}: ${issue?.message ?? "invalid"}`, {
      input,
      place: formatPosition(position(offsetOf(document, path, unknownKey !== undefined))),
      hint: hintFor(path),
    });
  }

  const value = parsed.data;
  // Its shape is checked by tagScheme() just below, which knows presets and templates.
  const scheme = value.tagScheme as TagSchemeConfig | undefined;
  if (scheme !== undefined) {
    try {
      tagScheme(scheme);
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      throw new ImagewrightError("invalid-input", `compatibility matrix: $.tagScheme: ${error.message}`, {
        input,
        place: formatPosition(position(offsetOf(document, ["tagScheme"]))),
        hint: error.hint,
        cause: error,
      });
    }
  }
  const rules: Rule[] = value.rules.map((rule, index) => ({
    number: index + 1,
    operator: rule.operator,
    product: rule.product,
    productVersions: rule.productVersions,
    images: rule.images,
    imageRange: Array.isArray(rule.images) ? rule.images.join(" || ") : rule.images,
    state: rule.state,
    ...(rule.note === undefined ? {} : { note: rule.note }),
    position: position(offsetOf(document, ["rules", index])),
  }));

  return {
    source: { name: origin.name, text },
    digest: `sha256:${createHash("sha256").update(text).digest("hex")}`,
    settings: {
      ...(value.registry === undefined ? {} : { registry: value.registry }),
      ...(value.organisation === undefined ? {} : { organisation: value.organisation }),
      ...(scheme === undefined ? {} : { tagScheme: scheme }),
      ...(value.vendor === undefined ? {} : { vendor: value.vendor }),
      uncovered: value.uncovered,
    },
    products: value.products,
    rules,
  };
}

function inputName(origin: SourceOrigin): string {
  return origin.embedding === undefined
    ? `compatibility matrix ${origin.name}`
    : `ConfigMap ${origin.embedding.file} (data.${origin.embedding.key})`;
}

function positionOf(lineCounter: LineCounter, offset: number, origin: SourceOrigin): SourcePosition {
  const { line, col } = lineCounter.linePos(offset);
  if (origin.embedding === undefined) return { file: origin.name, line, column: col };
  const outer = origin.embedding.outer(line, col);
  return {
    file: origin.embedding.file,
    line: outer?.line ?? 0,
    column: outer?.column ?? 0,
    embedded: { key: origin.embedding.key, line, column: col },
  };
}

/** The source offset of the deepest node on `path` that exists: a missing key points at its parent. */
function offsetOf(document: Document, path: readonly (string | number)[], atKey = false): number {
  let node: unknown = document.contents;
  let offset = rangeStart(node) ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
      if (pair === undefined) break;
      // A wrong value is shown where the value is; an unknown key where the key is.
      node = pair.value ?? pair.key;
      offset = (atKey ? rangeStart(pair.key) : rangeStart(pair.value)) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof key === "number") {
      const item: unknown = node.items[key];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}

function jsonPath(path: readonly (string | number)[]): string {
  return "$" + path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("");
}

function hintFor(path: readonly (string | number)[]): string | undefined {
  if (path.length === 0 || path[0] === "apiVersion" || path[0] === "kind") {
    return `a matrix starts with "apiVersion: ${MATRIX_API_VERSION}" and "kind: ${MATRIX_KIND}" (see docs/compat.md)`;
  }
  if (path[0] === "rules") return "a rule has operator, product, productVersions, images, state and an optional note (see docs/compat.md)";
  return undefined;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
