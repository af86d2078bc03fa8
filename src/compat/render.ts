// The matrix as a table people read: operator versions down, product/image
// versions across. Ranges are cut where any rule's bounds fall, so each row and
// column is a stretch of versions that every rule treats alike — the table is exact.

import semver from "semver";
import { evaluate } from "./rules.ts";
import type { CompatState, Matrix, Rule } from "./model.ts";

export interface MatrixColumn {
  product: string;
  /** A product version, or `*` for versions no rule lists by name. */
  productVersion: string;
  /** The stretch of image versions, as a SemVer range. */
  images: string;
}

export interface MatrixCell {
  state: CompatState;
  /** The deciding rule's number; absent when no rule covers the cell. */
  rule?: number;
}

export interface MatrixRow {
  /** The stretch of operator versions, as a SemVer range. */
  operator: string;
  cells: MatrixCell[];
}

export interface MatrixTable {
  columns: MatrixColumn[];
  rows: MatrixRow[];
  /** Rules with notes, for footnotes. */
  notes: { rule: number; note: string }[];
  uncovered: CompatState;
}

/** One stretch of versions: [from, to) with `from` as the version that stands for it. */
interface Stretch {
  from: semver.SemVer;
  to?: semver.SemVer;
}

const OTHER_PRODUCT_VERSION = "*";

export function matrixTable(matrix: Matrix): MatrixTable {
  const operatorStretches = stretches(matrix.rules.map((rule) => rule.operator));
  const columnKeys: { product: string; productVersion: string; stretch: Stretch }[] = [];
  for (const product of unique(matrix.rules.map((rule) => rule.product))) {
    const rules = matrix.rules.filter((rule) => rule.product === product);
    const listed = unique(rules.flatMap((rule) => (rule.productVersions === "*" ? [] : rule.productVersions)));
    const productVersions = rules.some((rule) => rule.productVersions === "*") ? [...listed, OTHER_PRODUCT_VERSION] : listed;
    for (const productVersion of productVersions) {
      const applying = rules.filter((rule) => appliesTo(rule, productVersion));
      for (const stretch of stretches(applying.map((rule) => rule.imageRange))) {
        columnKeys.push({ product, productVersion, stretch });
      }
    }
  }

  const cellAt = (operator: Stretch, column: (typeof columnKeys)[number]): MatrixCell => {
    const verdict = evaluate(matrix, {
      operatorVersion: operator.from.version,
      product: column.product,
      // Stands for every version no rule names: only `*` rules can cover it.
      productVersion: column.productVersion === OTHER_PRODUCT_VERSION ? "\u0000other" : column.productVersion,
      imageVersion: column.stretch.from.version,
    });
    return verdict.rule === undefined ? { state: verdict.state } : { state: verdict.state, rule: verdict.rule.number };
  };

  let grid = operatorStretches.map((operator) => ({ operator, cells: columnKeys.map((column) => cellAt(operator, column)) }));
  // Neighbouring rows that read alike become one row; the same for columns within one product version.
  grid = mergeRuns(grid, (a, b) => sameCells(a.cells, b.cells), (a, b) => ({ operator: join(a.operator, b.operator), cells: a.cells }));
  let columns = columnKeys.map((key, index) => ({ ...key, index }));
  columns = mergeRuns(
    columns,
    (a, b) =>
      a.product === b.product &&
      a.productVersion === b.productVersion &&
      grid.every((row) => sameCell(row.cells[a.index], row.cells[b.index])),
    (a, b) => ({ ...a, stretch: join(a.stretch, b.stretch) }),
  );

  return {
    columns: columns.map((column) => ({ product: column.product, productVersion: column.productVersion, images: label(column.stretch) })),
    rows: grid.map((row) => ({
      operator: label(row.operator),
      cells: columns.map((column) => row.cells[column.index] ?? { state: matrix.settings.uncovered }),
    })),
    notes: matrix.rules.flatMap((rule) => (rule.note === undefined ? [] : [{ rule: rule.number, note: rule.note }])),
    uncovered: matrix.settings.uncovered,
  };
}

function appliesTo(rule: Rule, productVersion: string): boolean {
  if (rule.productVersions === "*") return true;
  return productVersion !== OTHER_PRODUCT_VERSION && rule.productVersions.includes(productVersion);
}

/** Cuts the version line at every bound of every range (release versions; prerelease tags are folded into their release). */
function stretches(ranges: readonly string[]): Stretch[] {
  const points = new Map<string, semver.SemVer>();
  const add = (version: semver.SemVer): void => {
    const release = new semver.SemVer(`${version.major}.${version.minor}.${version.patch}`);
    points.set(release.version, release);
  };
  for (const text of ranges) {
    for (const comparators of new semver.Range(text).set) {
      for (const comparator of comparators) {
        // `*` has no bound: its comparator holds a marker instead of a version.
        if (!(comparator.semver instanceof semver.SemVer)) continue;
        const version = comparator.semver;
        // `>v` and `<=v` change at the version after v; `>=v`, `<v` and `=v` at v (and `=v` again after it).
        if (comparator.operator === ">" || comparator.operator === "<=" || comparator.operator === "" || comparator.operator === "=") {
          add(new semver.SemVer(version.version).inc("patch"));
        }
        if (comparator.operator !== ">" && comparator.operator !== "<=") add(version);
        // `<0.4.0-0` (what ^0.3.0 expands to) bounds at 0.4.0 when prereleases are ignored.
      }
    }
  }
  const sorted = [...points.values()].sort(semver.compare);
  const zero = new semver.SemVer("0.0.0");
  const starts = sorted[0] !== undefined && semver.eq(sorted[0], zero) ? sorted : [zero, ...sorted];
  return starts.map((from, i) => {
    const to = starts[i + 1];
    return to === undefined ? { from } : { from, to };
  });
}

function join(a: Stretch, b: Stretch): Stretch {
  return b.to === undefined ? { from: a.from } : { from: a.from, to: b.to };
}

function label(stretch: Stretch): string {
  const { from, to } = stretch;
  const isZero = from.compare("0.0.0") === 0;
  if (to === undefined) return isZero ? "*" : `>=${from.version}`;
  if (to.compare(new semver.SemVer(from.version).inc("patch")) === 0 && !isZero) return from.version;
  return isZero ? `<${to.version}` : `>=${from.version} <${to.version}`;
}

function mergeRuns<T>(items: readonly T[], same: (a: T, b: T) => boolean, merge: (a: T, b: T) => T): T[] {
  const out: T[] = [];
  for (const item of items) {
    const last = out[out.length - 1];
    if (last !== undefined && same(last, item)) out[out.length - 1] = merge(last, item);
    else out.push(item);
  }
  return out;
}

function sameCell(a: MatrixCell | undefined, b: MatrixCell | undefined): boolean {
  return a?.state === b?.state && a?.rule === b?.rule;
}

function sameCells(a: readonly MatrixCell[], b: readonly MatrixCell[]): boolean {
  return a.length === b.length && a.every((cell, i) => sameCell(cell, b[i]));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

const SYMBOL: Readonly<Record<CompatState, string>> = { compatible: "✅", unsupported: "⚠️", incompatible: "❌" };

function cellText(cell: MatrixCell): string {
  return `${SYMBOL[cell.state]} ${cell.state}${cell.rule === undefined ? " (no rule)" : ` (rule ${cell.rule})`}`;
}

function columnTitle(column: MatrixColumn): string {
  const version = column.productVersion === OTHER_PRODUCT_VERSION ? "other versions" : column.productVersion;
  return `${column.product} ${version}, image ${column.images}`;
}

/** What an empty matrix says, instead of a table without columns. */
function emptyMatrix(table: MatrixTable): string | undefined {
  return table.columns.length === 0 ? `The matrix has no rules: every combination is ${table.uncovered}.` : undefined;
}

export function renderMarkdown(table: MatrixTable): string {
  const empty = emptyMatrix(table);
  if (empty !== undefined) return empty + "\n";
  const escape = (text: string): string => text.replaceAll("|", "\\|");
  const lines = [
    `| Operator | ${table.columns.map((column) => escape(columnTitle(column))).join(" | ")} |`,
    `| --- |${table.columns.map(() => " --- |").join("")}`,
    ...table.rows.map((row) => `| ${escape(row.operator)} | ${row.cells.map(cellText).join(" | ")} |`),
    "",
    `A combination no rule covers is ${table.uncovered}.`,
  ];
  if (table.notes.length > 0) {
    lines.push("", ...table.notes.map((note) => `- rule ${note.rule}: ${escape(note.note)}`));
  }
  return lines.join("\n") + "\n";
}

export function renderHtml(table: MatrixTable): string {
  const empty = emptyMatrix(table);
  if (empty !== undefined) return `<p class="imagewright-compat">${empty}</p>\n`;
  const escape = (text: string): string =>
    text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
  // First header row: one cell per product version spanning its image stretches.
  const groups = mergeRuns(
    table.columns.map((column) => ({ key: `${column.product} ${column.productVersion === OTHER_PRODUCT_VERSION ? "(other versions)" : column.productVersion}`, span: 1 })),
    (a, b) => a.key === b.key,
    (a, b) => ({ key: a.key, span: a.span + b.span }),
  );
  const notes = new Map(table.notes.map((note) => [note.rule, note.note]));
  const cell = (value: MatrixCell): string => {
    const title = value.rule === undefined ? "no rule covers it" : `rule ${value.rule}${notes.has(value.rule) ? `: ${notes.get(value.rule)}` : ""}`;
    return `<td class="${value.state}" title="${escape(title)}">${SYMBOL[value.state]} ${value.state}${value.rule === undefined ? "" : ` <sup>${value.rule}</sup>`}</td>`;
  };
  return [
    '<table class="imagewright-compat">',
    "<thead>",
    `<tr><th rowspan="2">Operator</th>${groups.map((group) => `<th colspan="${group.span}">${escape(group.key)}</th>`).join("")}</tr>`,
    `<tr>${table.columns.map((column) => `<th>image ${escape(column.images)}</th>`).join("")}</tr>`,
    "</thead>",
    "<tbody>",
    ...table.rows.map((row) => `<tr><th>${escape(row.operator)}</th>${row.cells.map(cell).join("")}</tr>`),
    "</tbody>",
    "</table>",
    `<p>A combination no rule covers is ${table.uncovered}.</p>`,
    ...(table.notes.length === 0
      ? []
      : ["<ol class=\"notes\">", ...table.notes.map((note) => `<li value="${note.rule}">${escape(note.note)}</li>`), "</ol>"]),
  ].join("\n") + "\n";
}
