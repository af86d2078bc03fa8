// SOURCE_DATE_EPOCH as reproducible builds define it: the one timestamp a build
// may write into its output. From a flag, the environment, the last commit, or 0.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ImagewrightError } from "../errors/index.ts";

const run = promisify(execFile);

/**
 * `value` is seconds since the epoch, or `commit` for the committer time of
 * HEAD in `cwd`. Without a value, the SOURCE_DATE_EPOCH variable decides, and
 * without that, 0 (1970-01-01) — the same answer on every machine.
 */
export async function resolveSourceDateEpoch(
  value: string | undefined,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const fromEnv = env.SOURCE_DATE_EPOCH;
  const text = value ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined);
  const input = value !== undefined ? `--source-date-epoch ${value}` : `SOURCE_DATE_EPOCH=${fromEnv ?? ""}`;
  if (text === undefined) return 0;
  if (text === "commit") return commitTime(options.cwd ?? process.cwd());
  if (!/^\d{1,12}$/.test(text)) {
    throw new ImagewrightError("invalid-input", `"${text}" is not a number of seconds since 1970 (or "commit")`, {
      input,
      place: `character ${Math.max(1, [...text].findIndex((c) => c < "0" || c > "9") + 1)}`,
    });
  }
  return Number(text);
}

async function commitTime(cwd: string): Promise<number> {
  try {
    const { stdout } = await run("git", ["log", "-1", "--format=%ct", "HEAD"], { cwd });
    const seconds = Number(stdout.trim());
    if (!Number.isInteger(seconds)) throw new Error(`git answered "${stdout.trim()}"`);
    return seconds;
  } catch (cause) {
    throw new ImagewrightError("unavailable", `cannot read the time of the last commit in ${cwd}`, {
      input: "--source-date-epoch commit",
      hint: "run inside a git checkout with at least one commit, or give seconds",
      cause,
    });
  }
}
