// How commands answer: a human rendering on stdout (progress on stderr), or one
// JSON document on stdout with --json. Commands build a result value once and
// hand both renderings to `answer`, so the two can never disagree.

import type { Command } from "commander";

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

export function outputOptions(command: Command): OutputOptions {
  const opts = command.optsWithGlobals<{ json?: boolean; quiet?: boolean }>();
  return { json: opts.json === true, quiet: opts.quiet === true };
}

/** Prints a command's result: JSON for machines, `human(result)` for people. */
export function answer<T>(command: Command, result: T, human: (result: T) => string): void {
  const { json } = outputOptions(command);
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  } else {
    const text = human(result);
    if (text.length > 0) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  }
}

/** Progress for long work: on stderr, never in --json's stdout, silent with --quiet. */
export function progress(command: Command, line: string): void {
  const { quiet } = outputOptions(command);
  if (!quiet) process.stderr.write(line + "\n");
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: "left" | "right";
}

/** A plain, aligned text table: what `docker images` and `crane ls` users expect. */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.align === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join("\n");
}

/** Bytes as people read them: 1.5 MB, 300 MB (decimal units, like registries show). */
export function humanBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
