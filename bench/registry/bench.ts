// Benchmark: a generated 2-platform image (~300 MB of incompressible layers)
// moved by imagewright, crane, regctl and skopeo side by side in one run:
// (a) copy between two registries, (b) promote within one registry to another
// repository, (c) pull to an OCI layout. Wall time (median), bytes uploaded
// (counted by a proxy in front of the destination) and peak RSS (/usr/bin/time -v).
// Usage: node bench/registry/bench.ts [--runs N] [--layer-mb N] [--layers N]

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { copy, OciLayout } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy } from "../../test/support/registry.ts";
import type { RegistryProxy, TestRegistry } from "../../test/support/registry.ts";
import { writeIndex } from "../../test/oci/images.ts";

const PORTS = [15100, 15199] as const;
const BIN = fileURLToPath(new URL("../../bin/imagewright.ts", import.meta.url));
const LIBRARY_COPY = fileURLToPath(new URL("./copy.ts", import.meta.url));
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));
const TOOLS = process.env.IMAGEWRIGHT_TOOLS ?? join(process.env.HOME ?? "/root", ".cache/imagewright/tools");

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, "layer-mb": { type: "string", default: "30" }, layers: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const LAYER_BYTES = Number(values["layer-mb"]) * 1_000_000;
const LAYERS = Number(values.layers);

type Scenario = "copy" | "promote" | "pull";
type Tool = "imagewright" | "imagewright-lib" | "crane" | "regctl" | "skopeo";

interface Run {
  tool: Tool;
  scenario: Scenario;
  seconds: number;
  /** user + system CPU seconds: steadier than wall time on a shared machine */
  cpuSeconds: number;
  uploadedBytes: number;
  peakRssKb: number;
}

function tool(name: string): string {
  const path = join(TOOLS, "bin", name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run bash stack/tools.sh`);
  return path;
}

/** Runs a command under /usr/bin/time -v; returns wall seconds and peak RSS. Fails loudly. */
function measure(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; cpuSeconds: number; peakRssKb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/bin/time", ["-v", ...argv], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1];
      const system = /System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1];
      if (code !== 0 || rss === undefined || user === undefined || system === undefined) reject(new Error(`${argv.join(" ")} exited ${code}:\n${stderr.slice(-3000)}`));
      else resolve({ seconds, cpuSeconds: Number(user) + Number(system), peakRssKb: Number(rss) });
    });
  });
}

function commandFor(which: Tool, scenario: Scenario, source: string, destination: string, home: string): { argv: string[]; env: NodeJS.ProcessEnv } {
  const env = { HOME: home };
  const pull = scenario === "pull";
  switch (which) {
    case "imagewright":
      return { argv: [process.execPath, BIN, "--quiet", "copy", source, pull ? `oci:${destination}:bench` : destination], env };
    case "imagewright-lib":
      return { argv: [process.execPath, LIBRARY_COPY, source, pull ? `oci:${destination}:bench` : destination], env };
    case "crane":
      return { argv: pull ? [tool("crane"), "pull", "--insecure", "--format", "oci", source, destination] : [tool("crane"), "copy", "--insecure", source, destination], env };
    case "regctl":
      return { argv: [tool("regctl"), "image", "copy", source, pull ? `ocidir://${destination}:bench` : destination], env };
    case "skopeo":
      return {
        argv: ["skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false", ...(pull ? [] : ["--dest-tls-verify=false"]), `docker://${source}`, pull ? `oci:${destination}:bench` : `docker://${destination}`],
        env,
      };
  }
}

/** regctl keeps its TLS choice per host in its config: plain HTTP for our loopback registries. */
async function regctlHome(hosts: readonly string[]): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "imagewright-bench-home-"));
  await mkdir(join(home, ".regctl"), { recursive: true });
  await writeFile(join(home, ".regctl", "config.json"), JSON.stringify({ hosts: Object.fromEntries(hosts.map((h) => [h, { tls: "disabled" }])) }));
  return home;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "imagewright-bench-registry-"));
  const registries: TestRegistry[] = [];
  const proxies: RegistryProxy[] = [];
  const client = new RegistryClient();
  try {
    const source = await startRegistry({ ports: PORTS });
    registries.push(source);
    const sourceProxy = await startRegistryProxy(source, PORTS);
    proxies.push(sourceProxy);
    process.stderr.write(`generating ${2 * LAYERS} layers of ${LAYER_BYTES / 1e6} MB (2 platforms)…\n`);
    const layout = await OciLayout.open(join(work, "origin"), { create: true });
    const generated = await writeIndex(layout, { tag: "bench", layerSizes: Array.from({ length: LAYERS }, () => LAYER_BYTES) });
    await copy(layout, "bench", client.repository(source.host, "src/kafka"), "bench");
    await rm(join(work, "origin"), { recursive: true, force: true });
    const totalBytes = generated.images.flatMap((i) => [i.config, ...i.layers]).reduce((sum, d) => sum + d.size, 0);
    process.stderr.write(`source: ${source.host}/src/kafka:bench ${generated.descriptor.digest}, ${(totalBytes / 1e6).toFixed(0)} MB of blobs\n`);

    const runs: Run[] = [];
    const tools: Tool[] = ["imagewright", "imagewright-lib", "crane", "regctl", "skopeo"];
    for (let round = 0; round < RUNS; round++) {
      for (const scenario of ["copy", "promote", "pull"] as const) {
        for (const which of tools) {
          const name = `${which}-${round}`;
          let destinationProxy = sourceProxy;
          let destination: string;
          let from = `${source.host}/src/kafka:bench`;
          let cleanup = (): Promise<void> => Promise.resolve();
          if (scenario === "copy") {
            // A fresh destination registry per run: no tool can reuse what an earlier run uploaded.
            const target = await startRegistry({ ports: PORTS });
            destinationProxy = await startRegistryProxy(target, PORTS);
            destination = `${destinationProxy.host}/${name}/kafka:bench`;
            const proxy = destinationProxy;
            cleanup = async () => {
              await proxy.close();
              await target.stop();
            };
          } else if (scenario === "promote") {
            from = `${sourceProxy.host}/src/kafka:bench`;
            destination = `${sourceProxy.host}/promoted-${name}/kafka:bench`;
          } else {
            destination = join(work, `pull-${name}`);
          }
          const home = await regctlHome([source.host, sourceProxy.host, destinationProxy.host]);
          const { argv, env } = commandFor(which, scenario, from, destination, home);
          const before = destinationProxy.uploadedBytes();
          try {
            const measured = await measure(argv, env);
            const uploadedBytes = scenario === "pull" ? 0 : destinationProxy.uploadedBytes() - before;
            runs.push({ tool: which, scenario, ...measured, uploadedBytes });
            process.stderr.write(`${scenario.padEnd(8)} ${which.padEnd(16)} ${measured.seconds.toFixed(2)} s  ${measured.cpuSeconds.toFixed(2)} s CPU  ${(uploadedBytes / 1e6).toFixed(1)} MB up  ${(measured.peakRssKb / 1024).toFixed(0)} MiB RSS\n`);
          } finally {
            await cleanup();
            await rm(home, { recursive: true, force: true });
            if (scenario === "pull") await rm(destination, { recursive: true, force: true });
          }
        }
      }
    }

    const summary = (["copy", "promote", "pull"] as const).flatMap((scenario) =>
      tools.map((which) => {
        const mine = runs.filter((r) => r.tool === which && r.scenario === scenario);
        return {
          scenario,
          tool: which,
          runs: mine.length,
          medianSeconds: median(mine.map((r) => r.seconds)),
          minSeconds: Math.min(...mine.map((r) => r.seconds)),
          maxSeconds: Math.max(...mine.map((r) => r.seconds)),
          medianCpuSeconds: median(mine.map((r) => r.cpuSeconds)),
          uploadedBytes: median(mine.map((r) => r.uploadedBytes)),
          peakRssMiB: Math.max(...mine.map((r) => r.peakRssKb)) / 1024,
        };
      }),
    );
    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      `| scenario | tool | median wall (s) | min–max (s) | median CPU (s) | uploaded (MB) | peak RSS (MiB) |`,
      `|---|---|---:|---:|---:|---:|---:|`,
      ...summary.map((s) => `| ${s.scenario} | ${s.tool} | ${s.medianSeconds.toFixed(2)} | ${s.minSeconds.toFixed(2)}–${s.maxSeconds.toFixed(2)} | ${s.medianCpuSeconds.toFixed(2)} | ${s.scenario === "pull" ? "–" : (s.uploadedBytes / 1e6).toFixed(1)} | ${s.peakRssMiB.toFixed(0)} |`),
    ];
    await mkdir(RESULTS, { recursive: true });
    await writeFile(join(RESULTS, `registry-${date}.json`), JSON.stringify({ date, image: { digest: generated.descriptor.digest, blobBytes: totalBytes, layersPerPlatform: LAYERS, layerBytes: LAYER_BYTES }, runs, summary }, null, 2) + "\n");
    await writeFile(join(RESULTS, `registry-${date}.md`), lines.join("\n") + "\n");
    process.stdout.write(lines.join("\n") + "\n");
  } finally {
    await client.close();
    for (const proxy of proxies) await proxy.close();
    for (const registry of registries) await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
