// A catalog YAML file: read fast for validation (js-yaml), and parsed again with its
// syntax tree (yaml) only when a problem or a place must be pointed at by file, line
// and column. On a 10,000-version catalog that split is what keeps loading fast.

import { readFileSync } from "node:fs";
import { relative, isAbsolute } from "node:path";
import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";

export type PathSegment = string | number;

/** One thing wrong with the catalog, at a place a person can open. */
export interface CatalogProblem {
  /** The file as the user would open it (relative to the working directory when inside it). */
  file: string;
  line: number;
  column: number;
  /** The YAML path inside the file, e.g. `versions[1].dependencies.java-base`. */
  path: string;
  message: string;
}

export function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd === "" || fromCwd.startsWith("..") || isAbsolute(fromCwd) ? file : fromCwd;
}

export function formatPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text === "" ? "(document)" : text;
}

export class YamlSource {
  readonly file: string;
  readonly shownAs: string;
  private readonly text: string;
  private tree: { document: Document; lineCounter: LineCounter } | undefined;

  private constructor(file: string, text: string) {
    this.file = file;
    this.shownAs = displayPath(file);
    this.text = text;
  }

  static read(file: string): YamlSource {
    return new YamlSource(file, readFileSync(file, "utf8"));
  }

  /**
   * The file's data (YAML 1.2 core schema: no timestamps, `yes` stays a string), or
   * its syntax problems. A repeated key is a syntax problem, not a silent overwrite.
   */
  data(): { value: unknown } | { problems: CatalogProblem[] } {
    try {
      return { value: load(this.text, { schema: CORE_SCHEMA, filename: this.shownAs }) };
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      // Prefer the syntax tree's wording and position; js-yaml's when only it objects.
      const problems = this.syntaxProblems();
      if (problems.length > 0) return { problems };
      return {
        problems: [{ file: this.shownAs, line: error.mark.line + 1, column: error.mark.column + 1, path: "(syntax)", message: `YAML syntax: ${error.reason}` }],
      };
    }
  }

  private syntaxProblems(): CatalogProblem[] {
    const { document, lineCounter } = this.parsed();
    return document.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { file: this.shownAs, line, column: col, path: "(syntax)", message: `YAML syntax: ${firstLine(error.message)}` };
    });
  }

  private parsed(): { document: Document; lineCounter: LineCounter } {
    if (this.tree === undefined) {
      const lineCounter = new LineCounter();
      const document = parseDocument(this.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
      this.tree = { document, lineCounter };
    }
    return this.tree;
  }

  /**
   * A problem at `path`. When the path does not exist (a missing key) the problem
   * points at the deepest node that does; `at: "key"` points at a map key itself.
   */
  problem(path: readonly PathSegment[], message: string, at: "value" | "key" = "value"): CatalogProblem {
    const { line, column } = this.locate(path, at);
    return { file: this.shownAs, line, column, path: formatPath(path), message };
  }

  /** Whether `path` names a node that exists in the document. */
  has(path: readonly PathSegment[]): boolean {
    return this.walk(path, "value").found;
  }

  /**
   * For a scalar that YAML typed as a number or boolean: the text as written, so an
   * error can say how to quote it (`4.10` is read as 4.1).
   */
  typedScalar(path: readonly PathSegment[]): { written: string; value: number | boolean | null } | undefined {
    const { node, found } = this.walk(path, "value");
    if (!found || !isScalar(node) || typeof node.value === "string" || node.range === undefined || node.range === null) return undefined;
    return { written: this.text.slice(node.range[0], node.range[1]), value: node.value as number | boolean | null };
  }

  place(path: readonly PathSegment[], at: "value" | "key" = "value"): string {
    const { line, column } = this.locate(path, at);
    return `${this.shownAs}:${line}:${column}`;
  }

  private locate(path: readonly PathSegment[], at: "value" | "key"): { line: number; column: number } {
    const { node } = this.walk(path, at);
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.parsed().lineCounter.linePos(offset);
    return { line, column: col };
  }

  private walk(path: readonly PathSegment[], at: "value" | "key"): { node: Node | undefined; found: boolean } {
    let node = this.parsed().document.contents ?? undefined;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      let next: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair !== undefined) {
          const key = pair.key as Node;
          next = last && at === "key" ? key : ((pair.value as Node | null) ?? key);
        }
      } else if (isSeq(node) && typeof segment === "number") {
        next = (node.items[segment] as Node | undefined) ?? undefined;
      }
      if (next === undefined) return { node, found: false };
      node = next;
    }
    return { node, found: true };
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
