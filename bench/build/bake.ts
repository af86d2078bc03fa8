// Benchmark: plan + bake-file generation over the 10,000-version catalog that
// bench/plan.ts generates. Each run is a fresh process timing load, plan and bake
// generation separately; then the whole `imagewright build --all --dry-run` command.
// Usage: node bench/build/bake.ts [--versions 10000] [--runs 5]

import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { generateBake } from "../../src/build/bake.ts";
import { planBuild } from "../../src/build/index.ts";
import { loadCatalog } from "../../src/catalog/index.ts";
import { generateCatalog } from "../plan.ts";

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const BIN = fileURLToPath(new URL("../../bin/imagewright.ts", import.meta.url));
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

interface Measurement {
  loadMs: number;
  planMs: number;
  bakeMs: number;
  serializeMs: number;
  targets: number;
  contexts: number;
  bakeFileBytes: number;
  maxRssMiB: number;
}

function measureOnce(root: string): Measurement {
  const t0 = performance.now();
  const catalog = loadCatalog(root);
  const t1 = performance.now();
  const plan = planBuild(catalog, { kind: "all" });
  const t2 = performance.now();
  const generated = generateBake(plan, { vendor: catalog.vendor, sourceDateEpoch: 0, licenses: "Apache-2.0", output: { kind: "push" }, cache: { kind: "registry" } });
  const t3 = performance.now();
  const text = JSON.stringify(generated.file, null, 2);
  const t4 = performance.now();
  const contexts = Object.values(generated.file.target).reduce((sum, target) => sum + Object.keys(target.contexts ?? {}).length, 0);
  return {
    loadMs: t1 - t0,
    planMs: t2 - t1,
    bakeMs: t3 - t2,
    serializeMs: t4 - t3,
    targets: generated.entries.length,
    contexts,
    bakeFileBytes: Buffer.byteLength(text),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function stats(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { versions: { type: "string", default: "10000" }, runs: { type: "string", default: "5" }, measure: { type: "string" } } });
  if (values.measure !== undefined) {
    process.stdout.write(JSON.stringify(measureOnce(values.measure)) + "\n");
    return;
  }
  const versions = Number(values.versions);
  const runs = Number(values.runs);
  const root = mkdtempSync(join(tmpdir(), "imagewright-bench-bake-"));
  try {
    const shape = generateCatalog(root, versions);
    process.stderr.write(`catalog: ${versions} product versions in ${shape.images} images, ${shape.edges} dependencies\n`);
    const measurements: Measurement[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(process.execPath, [SELF, "--measure", root], { maxBuffer: 1 << 20 });
      const m = JSON.parse(stdout) as Measurement;
      measurements.push(m);
      process.stderr.write(
        `run ${i + 1}: load ${m.loadMs.toFixed(0)} ms, plan ${m.planMs.toFixed(0)} ms, bake file ${m.bakeMs.toFixed(0)} ms + JSON ${m.serializeMs.toFixed(0)} ms (${m.targets} targets, ${m.contexts} contexts, ${(m.bakeFileBytes / 1e6).toFixed(1)} MB), peak RSS ${m.maxRssMiB.toFixed(0)} MiB\n`,
      );
    }
    // As CI runs it: a process that loads, plans, generates and prints the bake file.
    const cli: number[] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) {
      const t0 = performance.now();
      await run(process.execPath, [BIN, "--quiet", "build", "--catalog", root, "--all", "--dry-run", "--rebuild-dependencies"], { maxBuffer: 1 << 30 });
      cli.push(performance.now() - t0);
    }
    const first = measurements[0]!;
    const result = {
      benchmark: "plan+bake",
      date: new Date().toISOString(),
      node: process.version,
      catalog: { versions, ...shape },
      runs,
      loadMs: stats(measurements.map((m) => m.loadMs)),
      planMs: stats(measurements.map((m) => m.planMs)),
      bakeGenerationMs: stats(measurements.map((m) => m.bakeMs)),
      bakeSerializeMs: stats(measurements.map((m) => m.serializeMs)),
      planPlusBakeMs: stats(measurements.map((m) => m.planMs + m.bakeMs + m.serializeMs)),
      targets: first.targets,
      contexts: first.contexts,
      bakeFileBytes: first.bakeFileBytes,
      peakRssMiB: stats(measurements.map((m) => m.maxRssMiB)),
      cliBuildDryRunMs: stats(cli),
    };
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `build-bake-${result.date.slice(0, 10)}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    const f = (s: { median: number; max: number }, unit = "ms"): string => `median ${s.median.toFixed(0)} ${unit}, max ${s.max.toFixed(0)} ${unit}`;
    process.stdout.write(
      [
        `plan + bake file over ${versions} product versions (${runs} fresh-process runs, node ${process.version})`,
        `  load + validate           ${f(result.loadMs)}`,
        `  plan (--all)              ${f(result.planMs)}`,
        `  bake file generation      ${f(result.bakeGenerationMs)}  (${result.targets} targets, ${result.contexts} target: contexts)`,
        `  bake file JSON            ${f(result.bakeSerializeMs)}  (${(result.bakeFileBytes / 1e6).toFixed(1)} MB)`,
        `  plan + bake together      ${f(result.planPlusBakeMs)}`,
        `  peak RSS                  ${f(result.peakRssMiB, "MiB")}`,
        `  imagewright build --all --dry-run, end to end: ${f(result.cliBuildDryRunMs)}`,
        `  written to ${file}`,
      ].join("\n") + "\n",
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
