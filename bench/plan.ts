// Benchmark: load + validate and plan over a generated catalog of 10,000 product
// versions with dependencies. Each run is a fresh process (what a CI job pays), timed
// per phase, with its peak RSS. Usage: node bench/plan.ts [--versions N] [--runs N]
// (--generate <dir> only writes the catalog, for profiling.)

import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { planBuild } from "../src/build/index.ts";
import { loadCatalog } from "../src/catalog/index.ts";

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

interface Measurement {
  loadMs: number;
  planMs: number;
  /** CPU time of the phase: on a shared machine this is what the code costs, wall time what a user waits. */
  loadCpuMs: number;
  planCpuMs: number;
  targets: number;
  maxRssMiB: number;
}

/**
 * 100 images × 100 versions: 5 base images without dependencies, every other image's
 * versions depend on one or two versions of images before it, so the graph is deep
 * (up to ~20 levels) and wide, like a platform team's catalog grown large.
 */
export function generateCatalog(root: string, versions: number): { images: number; edges: number } {
  const perImage = 100;
  const images = Math.ceil(versions / perImage);
  writeFileSync(
    join(root, "imagewright.yaml"),
    "registry: 127.0.0.1:5000\nnamespace: bench\nvendor: stackable\ntagScheme: stackable\nplatforms: [linux/amd64]\n",
  );
  let edges = 0;
  let written = 0;
  for (let i = 0; i < images; i++) {
    const name = `product-${String(i).padStart(3, "0")}`;
    const folder = join(root, "images", name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "Dockerfile"), "ARG BASE\nFROM ${BASE}\n");
    writeFileSync(join(folder, "Dockerfile.legacy"), "ARG BASE\nFROM ${BASE}\n");
    const lines = [`kind: ${i < 5 ? "base" : "product"}`, "testSuite: kafka", "artifact:", `  url: https://downloads.example.org/${name}/{productVersion}/${name}-{productVersion}.tgz`, `  checksumUrl: https://downloads.example.org/${name}/{productVersion}/${name}-{productVersion}.tgz.sha512`, "versions:"];
    for (let v = 0; v < perImage && written < versions; v++, written++) {
      lines.push(`  - productVersion: "${Math.floor(v / 10) + 1}.${v % 10}.0"`, `    imageVersion: 0.${v % 3}.${v % 7}`);
      if (v % 4 === 0) lines.push("    dockerfile: Dockerfile.legacy");
      lines.push("    buildArgs:", `      RELEASE_CHANNEL: "${v % 2 === 0 ? "stable" : "lts"}"`);
      if (v % 25 === 0) lines.push("    support:", "      status: end-of-life", "      endOfLife: 2024-06-30");
      if (i >= 5) {
        lines.push("    dependencies:");
        // Deterministic spread over earlier images: one near, one far.
        const near = i - 1 - ((v * 7) % Math.min(i, 5));
        const far = (v * 13 + i) % i;
        for (const dependency of new Set([near, far])) {
          const dv = (v * 31 + dependency) % perImage;
          lines.push(`      product-${String(dependency).padStart(3, "0")}: "${Math.floor(dv / 10) + 1}.${dv % 10}.0"`);
          edges++;
        }
      }
    }
    writeFileSync(join(folder, "image.yaml"), lines.join("\n") + "\n");
  }
  return { images, edges };
}

/** One measured run, in this (fresh) process. */
function measureOnce(root: string): Measurement {
  const cpu = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const c0 = cpu();
  const t0 = performance.now();
  const catalog = loadCatalog(root);
  const t1 = performance.now();
  const c1 = cpu();
  const plan = planBuild(catalog, { kind: "all" });
  const t2 = performance.now();
  const c2 = cpu();
  return {
    loadMs: t1 - t0,
    planMs: t2 - t1,
    loadCpuMs: c1 - c0,
    planCpuMs: c2 - c1,
    targets: plan.targets.length,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

interface CliMeasurement {
  wallMs: number;
  cpuMs: number;
  bytes: number;
}

/**
 * `imagewright plan --all --json` in this fresh process, through the CLI's own main
 * (what bin/imagewright.ts runs), from process start to the last byte of JSON.
 */
async function measureCli(root: string): Promise<CliMeasurement> {
  const { main } = await import("../src/cli/main.ts");
  let bytes = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  });
  const code = await main(["plan", "--catalog", root, "--all", "--json"]);
  process.stdout.write = write;
  if (code !== 0) throw new Error(`imagewright plan exited ${code}`);
  const { user, system } = process.cpuUsage();
  // performance.now() counts from the start of this process.
  return { wallMs: performance.now(), cpuMs: (user + system) / 1000, bytes };
}

function stats(values: number[]): { median: number; max: number; min: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, max: sorted.at(-1)!, min: sorted[0]! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      versions: { type: "string", default: "10000" },
      runs: { type: "string", default: "7" },
      measure: { type: "string" },
      "measure-cli": { type: "string" },
      generate: { type: "string" },
    },
  });
  if (values.generate !== undefined) {
    // Only write the catalog (to profile against it); nothing is measured.
    mkdirSync(values.generate, { recursive: true });
    generateCatalog(values.generate, Number(values.versions));
    return;
  }
  if (values.measure !== undefined) {
    process.stdout.write(JSON.stringify(measureOnce(values.measure)) + "\n");
    return;
  }
  if (values["measure-cli"] !== undefined) {
    process.stdout.write(JSON.stringify(await measureCli(values["measure-cli"])) + "\n");
    return;
  }
  const versions = Number(values.versions);
  const runs = Number(values.runs);
  const root = mkdtempSync(join(tmpdir(), "imagewright-bench-plan-"));
  try {
    const shape = generateCatalog(root, versions);
    process.stderr.write(`catalog: ${versions} product versions in ${shape.images} images, ${shape.edges} dependencies (${root})\n`);

    const measurements: Measurement[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(process.execPath, [SELF, "--measure", root], { maxBuffer: 1 << 20 });
      const m = JSON.parse(stdout) as Measurement;
      measurements.push(m);
      process.stderr.write(
        `run ${i + 1}: load+validate ${m.loadMs.toFixed(0)} ms (cpu ${m.loadCpuMs.toFixed(0)}), plan ${m.planMs.toFixed(0)} ms (cpu ${m.planCpuMs.toFixed(0)}), ${m.targets} targets, peak RSS ${m.maxRssMiB.toFixed(0)} MiB\n`,
      );
    }

    // The whole command as a user runs it: process start, loading imagewright, the catalog, the plan, JSON out.
    const cli: CliMeasurement[] = [];
    for (let i = 0; i < Math.min(runs, 5); i++) {
      const { stdout } = await run(process.execPath, [SELF, "--measure-cli", root], { maxBuffer: 1 << 20 });
      cli.push(JSON.parse(stdout) as CliMeasurement);
    }

    const result = {
      benchmark: "plan",
      date: new Date().toISOString(),
      node: process.version,
      catalog: { versions, ...shape },
      runs,
      loadValidateMs: stats(measurements.map((m) => m.loadMs)),
      planMs: stats(measurements.map((m) => m.planMs)),
      loadValidateCpuMs: stats(measurements.map((m) => m.loadCpuMs)),
      planCpuMs: stats(measurements.map((m) => m.planCpuMs)),
      loadAverage: loadavg(),
      targets: measurements[0]?.targets,
      peakRssMiB: stats(measurements.map((m) => m.maxRssMiB)),
      cliPlanAllJsonMs: stats(cli.map((m) => m.wallMs)),
      cliPlanAllJsonCpuMs: stats(cli.map((m) => m.cpuMs)),
      cliJsonBytes: cli[0]?.bytes,
      goal: "plan < 300 ms",
    };
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `plan-${result.date.slice(0, 10)}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    const f = (s: { median: number; max: number }, unit: string): string => `median ${s.median.toFixed(0)} ${unit}, max ${s.max.toFixed(0)} ${unit}`;
    process.stdout.write(
      [
        `plan over ${versions} product versions (${runs} fresh-process runs)`,
        `  load + validate      ${f(result.loadValidateMs, "ms")}  (cpu ${f(result.loadValidateCpuMs, "ms")})`,
        `  plan (--all)         ${f(result.planMs, "ms")}  (cpu ${f(result.planCpuMs, "ms")}; ${result.targets} targets; goal < 300 ms)`,
        `  peak RSS             ${f(result.peakRssMiB, "MiB")}`,
        `  imagewright plan --all --json, end to end: ${f(result.cliPlanAllJsonMs, "ms")}  (cpu ${f(result.cliPlanAllJsonCpuMs, "ms")}; ${((result.cliJsonBytes ?? 0) / 1e6).toFixed(1)} MB of JSON)`,
        `  machine load average during the run: ${result.loadAverage.map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores`,
        `  written to ${file}`,
      ].join("\n") + "\n",
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Imported by bench/build/bake.ts for the same catalog; run only as a script.
if (process.argv[1] === SELF) await main();
