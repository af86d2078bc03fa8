// The ignore file: accepted risks, each with a reason and an expiry date. An expired
// entry stops ignoring (the finding counts again) and is reported, so nothing is
// waived forever by accident.

import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node } from "yaml";
import { ImagewrightError } from "../errors/index.ts";
import type { Finding } from "./model.ts";
import { relatedIds } from "./merge.ts";

export interface IgnoreEntry {
  /** A vulnerability id or any of its aliases. */
  id: string;
  /** Only for this package: its name, source package name or purl (prefix); all packages when absent. */
  package?: string;
  reason: string;
  /** YYYY-MM-DD: the last day the entry ignores. */
  expires: string;
  /** file:line:column of the entry. */
  place: string;
}

export interface IgnoreOutcome {
  findings: Finding[];
  /** Entries past their date: they ignored nothing. */
  expired: IgnoreEntry[];
  /** Entries that matched no finding (candidates for removal). */
  unused: IgnoreEntry[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function placeOf(file: string, counter: LineCounter, node: Node | null | undefined): string {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = counter.linePos(offset);
  return `${file}:${line}:${col}`;
}

/** Parses an ignore file's text; every problem names the file, line and column. */
export function parseIgnoreFile(text: string, file: string): IgnoreEntry[] {
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const invalid = (message: string, node: Node | null | undefined, hint?: string): ImagewrightError =>
    new ImagewrightError("invalid-input", `ignore file ${file}: ${message}`, { input: `ignore file ${file}`, place: placeOf(file, counter, node), ...(hint === undefined ? {} : { hint }) });
  const [syntax] = document.errors;
  if (syntax !== undefined) {
    const { line, col } = counter.linePos(syntax.pos[0]);
    throw new ImagewrightError("invalid-input", `ignore file ${file}: ${syntax.message.split("\n")[0] ?? "YAML error"}`, { input: `ignore file ${file}`, place: `${file}:${line}:${col}` });
  }
  const root = document.contents;
  if (root === null) return [];
  if (!isMap(root)) throw invalid("expected a mapping with an `ignore:` list", root);
  const list = root.get("ignore", true);
  if (list === undefined || list === null) return [];
  if (!isSeq(list)) throw invalid("`ignore` must be a list of entries", list);
  return list.items.map((item) => {
    if (!isMap(item)) throw invalid("each entry is a mapping with id, reason and expires", item as Node);
    const field = (name: string, required: boolean): string | undefined => {
      const node = item.get(name, true);
      if (node === undefined || node === null) {
        if (required) throw invalid(`entry needs \`${name}\``, item, "every ignore entry carries id, reason and expires (YYYY-MM-DD)");
        return undefined;
      }
      if (!isScalar(node) || (typeof node.value !== "string" && typeof node.value !== "number") || String(node.value).trim() === "") {
        throw invalid(`\`${name}\` must be a non-empty string`, node);
      }
      return String(node.value).trim();
    };
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!["id", "package", "reason", "expires"].includes(key)) throw invalid(`unknown key ${JSON.stringify(key)}`, pair.key as Node, "allowed keys: id, package, reason, expires");
    }
    const expires = field("expires", true) ?? "";
    const expiresNode = item.get("expires", true) as Node;
    if (!DATE.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`))) throw invalid(`expires ${JSON.stringify(expires)} is not a date (YYYY-MM-DD)`, expiresNode);
    const entry: IgnoreEntry = { id: field("id", true) ?? "", reason: field("reason", true) ?? "", expires, place: placeOf(file, counter, item) };
    const pkg = field("package", false);
    if (pkg !== undefined) entry.package = pkg;
    return entry;
  });
}

export async function loadIgnoreFile(path: string): Promise<IgnoreEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new ImagewrightError("not-found", `ignore file ${path} cannot be read`, { input: `ignore file ${path}`, cause });
  }
  return parseIgnoreFile(text, path);
}

/** True when the entry's last day is before `today` (UTC dates). */
export function isExpired(entry: IgnoreEntry, today: Date): boolean {
  return entry.expires < today.toISOString().slice(0, 10);
}

function covers(entry: IgnoreEntry, finding: Finding): boolean {
  if (!relatedIds(finding).includes(entry.id)) return false;
  if (entry.package === undefined) return true;
  const p = finding.package;
  return p.name === entry.package || p.sourceName === entry.package || p.purl.startsWith(entry.package);
}

/** Marks the findings valid entries cover; expired entries mark nothing and are returned. */
export function applyIgnores(findings: readonly Finding[], entries: readonly IgnoreEntry[], today: Date): IgnoreOutcome {
  const expired = entries.filter((entry) => isExpired(entry, today));
  const active = entries.filter((entry) => !isExpired(entry, today));
  const used = new Set<IgnoreEntry>();
  const result = findings.map((finding) => {
    const entry = active.find((candidate) => covers(candidate, finding));
    if (entry === undefined) return finding;
    used.add(entry);
    return { ...finding, ignored: { reason: entry.reason, expires: entry.expires } };
  });
  return { findings: result, expired, unused: active.filter((entry) => !used.has(entry)) };
}
