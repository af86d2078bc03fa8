// The Docker Engine as the sanity suites use it: the docker CLI run with argument
// arrays, and a run's containers, networks and scratch files that are all removed at the end.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagewrightError } from "../errors/index.ts";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerCallOptions {
  input?: string;
  timeoutMs?: number;
}

const DOCKER = process.env["IMAGEWRIGHT_DOCKER"] ?? "docker";

/** Runs `docker <args>`; a non-zero exit is a result, not an exception; a missing docker is. */
export function docker(args: readonly string[], options: DockerCallOptions = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      DOCKER,
      [...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") {
            reject(new ImagewrightError("unavailable", "the docker CLI is not installed", { input: DOCKER, hint: "run stack/up.sh", cause: error }));
            return;
          }
          const timedOut = error.killed === true;
          resolve({ code: timedOut ? 124 : 1, stdout, stderr: timedOut ? `${stderr}\n(docker ${args[0] ?? ""} timed out)` : `${stderr}${error.message}` });
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs `docker <args>` and returns stdout, or fails with what docker said. */
export async function dockerOk(args: readonly string[], options: DockerCallOptions = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) {
    throw new Error(`docker ${args.slice(0, 3).join(" ")} … exited with ${result.code}: ${lastLines(result.stderr || result.stdout, 15)}`);
  }
  return result.stdout;
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/** A free TCP port on 127.0.0.1, found by binding port 0 (the kernel picks one nobody holds). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * What one suite run creates on the engine. Names carry the run id so runs never
 * collide; `close()` removes everything, whether the steps passed or not.
 */
export class DockerRun {
  readonly id: string;
  readonly prefix: string;
  readonly #containers = new Set<string>();
  readonly #networks = new Set<string>();
  readonly #directories = new Set<string>();

  constructor(prefix = "iw-verify") {
    this.id = randomBytes(4).toString("hex");
    this.prefix = `${prefix}-${this.id}`;
  }

  name(role: string): string {
    return `${this.prefix}-${role}`;
  }

  get label(): string {
    return `imagewright.verify.run=${this.id}`;
  }

  async network(role: string): Promise<string> {
    const name = this.name(role);
    this.#networks.add(name);
    await dockerOk(["network", "create", "--label", this.label, name]);
    return name;
  }

  /** Starts a detached container; `args` go between `run` and the image (ports, env, mounts). */
  async start(role: string, image: string, args: readonly string[], command: readonly string[] = []): Promise<string> {
    const name = this.name(role);
    this.#containers.add(name);
    await dockerOk(["run", "--detach", "--name", name, "--hostname", role, "--label", this.label, ...args, image, ...command], { timeoutMs: 300_000 });
    return name;
  }

  async scratch(role: string): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), `${this.name(role)}-`));
    this.#directories.add(directory);
    return directory;
  }

  async close(): Promise<void> {
    if (this.#containers.size > 0) await docker(["rm", "--force", "--volumes", ...this.#containers], { timeoutMs: 120_000 });
    for (const network of this.#networks) await docker(["network", "rm", network]);
    for (const directory of this.#directories) await rm(directory, { recursive: true, force: true });
    this.#containers.clear();
    this.#networks.clear();
    this.#directories.clear();
  }
}

/** State, exit code and the log tail of a container: what a failed step shows. */
export async function containerState(name: string): Promise<{ running: boolean; exitCode: number; status: string }> {
  const result = await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}} {{.State.Status}}", name]);
  if (result.code !== 0) return { running: false, exitCode: -1, status: "missing" };
  const [running, exitCode, status] = result.stdout.trim().split(" ");
  return { running: running === "true", exitCode: Number(exitCode), status: status ?? "unknown" };
}

export async function containerLogs(name: string, lines = 40): Promise<string> {
  const result = await docker(["logs", "--tail", String(lines), name]);
  return `${result.stdout}${result.stderr}`.trimEnd();
}
