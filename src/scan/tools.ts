// Finding the scanner programs and running them: argument arrays only, output
// captured, and a missing program reported as a state instead of an exception.

import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

/** Where stack/tools.sh puts the tools it builds; searched before PATH. */
export function toolsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env["IMAGEWRIGHT_TOOLS"] !== undefined && env["IMAGEWRIGHT_TOOLS"] !== "") return join(env["IMAGEWRIGHT_TOOLS"], "bin");
  const cache = env["IMAGEWRIGHT_CACHE"] ?? join(env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "imagewright");
  return join(cache, "tools", "bin");
}

/** The absolute path of `name` in the tools directory or on PATH, or undefined. */
export async function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates = [toolsDirectory(env), ...(env["PATH"] ?? "").split(delimiter).filter((dir) => dir !== "")];
  for (const dir of candidates) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here: try the next directory
    }
  }
  return undefined;
}

export interface ProgramRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a program to completion; a non-zero exit is a result, not a throw (scanners use exit codes). */
export function runProgram(program: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<ProgramRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      program,
      [...args],
      { env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 512 * 1024 * 1024, timeout: options.timeoutMs ?? 15 * 60_000 },
      (error, stdout, stderr) => {
        const seconds = (performance.now() - started) / 1000;
        if (error !== null && typeof error.code !== "number") {
          // Not an exit status: the program could not be started or was killed (timeout).
          reject(new Error(`${program} did not run: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr, seconds });
      },
    );
  });
}

/** The first line of `<program> --version`-style output that carries a version number. */
export function versionLine(text: string): string | undefined {
  const match = /v?\d+\.\d+\.\d+[^\s,]*/.exec(text);
  return match?.[0]?.replace(/^v/, "");
}
