// Runs the stack's programs (docker, tools, Kafka scripts) as child processes with
// argument arrays, collecting their output and exit code for assertions.
import { execFile } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        maxBuffer: 16 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(new Error(`${file}: ${error.message}`, { cause: error }));
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/** Where stack/lib.sh keeps caches and the Go-built tools. */
export const STACK_CACHE = process.env.IMAGEWRIGHT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "imagewright");
export const TOOLS_BIN = join(process.env.IMAGEWRIGHT_TOOLS ?? join(STACK_CACHE, "tools"), "bin");

/** The registry stack/up.sh starts for the main job and the examples. */
export const DEFAULT_REGISTRY = `127.0.0.1:${process.env.IMAGEWRIGHT_REGISTRY_PORT ?? "5000"}`;

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** GETs a manifest from a loopback registry; its digest is the registry's Docker-Content-Digest. */
export async function fetchManifest(registry: string, repository: string, reference: string): Promise<{ digest: string; mediaType: string; body: unknown }> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES } });
  if (response.status !== 200) throw new Error(`${registry}/${repository}:${reference}: HTTP ${response.status}`);
  return {
    digest: response.headers.get("docker-content-digest") ?? "",
    mediaType: response.headers.get("content-type") ?? "",
    body: await response.json(),
  };
}
