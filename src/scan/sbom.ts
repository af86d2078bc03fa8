// The SBOM (CycloneDX JSON) of a scanned image: from syft when it is installed, else
// from trivy's own CycloneDX output of the same archive (offline, same database).

import { readFile } from "node:fs/promises";
import { ImagewrightError } from "../errors/index.ts";
import { findProgram, runProgram } from "./tools.ts";
import { trivyArguments } from "./trivy.ts";

export interface Sbom {
  path: string;
  generator: string;
  components: number;
}

async function countComponents(path: string, generator: string): Promise<number> {
  const document = JSON.parse(await readFile(path, "utf8")) as { bomFormat?: string; components?: unknown[] };
  if (document.bomFormat !== "CycloneDX") {
    throw new ImagewrightError("failed", `${generator} did not write a CycloneDX document to ${path}`, { input: path });
  }
  return document.components?.length ?? 0;
}

/**
 * Writes the SBOM of `archive` to `path`. `trivyCacheDir` is the trivy database to use
 * when syft is missing; without either, there is no SBOM and the caller says so.
 */
export async function writeSbom(archive: string, path: string, options: { trivyCacheDir?: string; env: NodeJS.ProcessEnv }): Promise<Sbom | undefined> {
  const syft = await findProgram("syft", options.env);
  if (syft !== undefined) {
    const run = await runProgram(syft, ["scan", `docker-archive:${archive}`, "--output", `cyclonedx-json=${path}`, "--quiet"], {
      // syft's update check is the only network call it would make.
      env: { ...options.env, SYFT_CHECK_FOR_APP_UPDATE: "false" },
    });
    if (run.code !== 0) throw new ImagewrightError("failed", `syft could not make the SBOM: ${run.stderr.trim().split("\n").at(-1) ?? `exit ${run.code}`}`, { input: archive });
    return { path, generator: "syft", components: await countComponents(path, "syft") };
  }
  const trivy = await findProgram("trivy", options.env);
  if (trivy === undefined || options.trivyCacheDir === undefined) return undefined;
  const args = trivyArguments(archive, options.trivyCacheDir).map((arg) => (arg === "json" ? "cyclonedx" : arg));
  const run = await runProgram(trivy, [...args, "--output", path], { env: options.env });
  if (run.code !== 0) throw new ImagewrightError("failed", `trivy could not make the SBOM: ${run.stderr.trim().split("\n").at(-1) ?? `exit ${run.code}`}`, { input: archive });
  return { path, generator: "trivy", components: await countComponents(path, "trivy") };
}
