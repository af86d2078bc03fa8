// Benchmark: base image + 200 MB of files → image in a registry, side by side in
// one run: imagewright assemble, `tar` + `crane append`, and `docker build` + push
// of the equivalent Dockerfile. Median of N runs each, and digest stability.
// Usage: node bench/build/assemble.ts [--runs 3] [--megabytes 200]

import { execFile } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { copy, openLocation, parseManifest } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry } from "../../test/support/registry.ts";

const run = promisify(execFile);
const BIN = fileURLToPath(new URL("../../bin/imagewright.ts", import.meta.url));
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));
const CRANE = process.env.IMAGEWRIGHT_CRANE ?? path.join(process.env.HOME ?? "/root", ".cache/imagewright/tools/bin/crane");
const LOCAL_BASE = process.env.IMAGEWRIGHT_BASE_IMAGE ?? "127.0.0.1:5000/upstream/debian:bookworm";
const PORTS: [number, number] = [15470, 15489];

interface Sample {
  ms: number;
  /** user + system CPU seconds of the tool's processes (docker: the CLI only, not the daemon). */
  cpu: number;
  peakRssMiB: number;
  digest: string;
  layerBytes: number;
}

/** Runs a program under /usr/bin/time -v: its CPU seconds and peak RSS, next to the caller's wall clock. */
async function measured(program: string, args: string[]): Promise<{ cpu: number; rssMiB: number }> {
  const { stderr } = await run("/usr/bin/time", ["-v", program, ...args], { maxBuffer: 1 << 26 });
  const field = (name: string): number => Number(new RegExp(`${name}: ([0-9.]+)`).exec(stderr)?.[1] ?? Number.NaN);
  return { cpu: field("User time \\(seconds\\)") + field("System time \\(seconds\\)"), rssMiB: field("Maximum resident set size \\(kbytes\\)") / 1024 };
}

/**
 * What a product image adds to a base: mostly already-compressed artifacts (jars,
 * native binaries: incompressible, 4 MiB each) and a fifth of text (configs,
 * scripts, licenses: compressible). Deterministic bytes, so every tool sees the same files.
 */
async function makeFiles(root: string, megabytes: number): Promise<number> {
  const total = megabytes * 1_000_000;
  const randomPart = Math.floor(total * 0.8);
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  let written = 0;
  await mkdir(path.join(root, "libs"), { recursive: true });
  for (let i = 0; written < randomPart; i++) {
    const size = Math.min(4 * 1024 * 1024, randomPart - written);
    await writeFile(path.join(root, "libs", `artifact-${String(i).padStart(3, "0")}.jar`), cipher.update(Buffer.alloc(size)));
    written += size;
  }
  await mkdir(path.join(root, "config"), { recursive: true });
  for (let i = 0; written < total; i++) {
    const lines: string[] = [];
    let size = 0;
    for (let line = 0; size < 100_000; line++) {
      const text = `broker.${i}.setting.${line % 97}=value-${(line * 7919) % 10007} # partition ${line % 12} offset ${line * 31}\n`;
      lines.push(text);
      size += text.length;
    }
    const content = lines.join("").slice(0, Math.min(100_000, total - written));
    await writeFile(path.join(root, "config", `part-${String(i).padStart(4, "0")}.properties`), content);
    written += content.length;
  }
  return written;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, megabytes: { type: "string", default: "200" } } });
  const runs = Number(values.runs);
  const megabytes = Number(values.megabytes);
  const work = await mkdtemp(path.join(tmpdir(), "imagewright-bench-assemble-"));
  const registry = await startRegistry({ ports: PORTS });
  const client = new RegistryClient();
  const images: string[] = [];
  try {
    const say = (line: string): void => void process.stderr.write(line + "\n");
    const root = path.join(work, "context");
    const data = path.join(root, "data");
    const bytes = await makeFiles(data, megabytes);
    say(`files: ${(bytes / 1e6).toFixed(0)} MB under ${data}`);

    // The base goes into the bench registry first, so every tool mounts its layers from there.
    const base = `${registry.host}/bench/base:1`;
    const source = await openLocation(LOCAL_BASE, { client });
    const target = await openLocation(base, { client, forWriting: true });
    await copy(source.store, source.reference, target.store, target.reference);
    say(`base: ${LOCAL_BASE} copied to ${base}`);
    await writeFile(path.join(root, "Dockerfile"), `FROM ${base}\nCOPY data /opt/data\n`);
    await run("docker", ["pull", "--quiet", base]);
    images.push(base);

    const layerBytesOf = async (reference: string): Promise<{ digest: string; layerBytes: number }> => {
      const location = await openLocation(reference, { client });
      const stored = await location.store.getManifest(location.reference);
      const parsed = parseManifest(stored.bytes, reference);
      if (parsed.kind !== "image") throw new Error(`${reference} is not one image`);
      return { digest: stored.descriptor.digest, layerBytes: parsed.manifest.layers.at(-1)!.size };
    };

    const contenders: Record<string, (i: number) => Promise<Sample>> = {
      "imagewright assemble": async (i) => {
        const output = `${registry.host}/bench/imagewright-${i}:1`;
        let usage = { cpu: 0, rssMiB: 0 };
        const ms = await timed(async () => {
          usage = await measured(process.execPath, [BIN, "--quiet", "assemble", "--base", base, "--layer", `${data}:/opt/data`, "--output", output]);
        });
        return { ms, cpu: usage.cpu, peakRssMiB: usage.rssMiB, ...(await layerBytesOf(output)) };
      },
      "tar + crane append": async (i) => {
        const output = `${registry.host}/bench/crane-${i}:1`;
        const tarFile = path.join(work, `crane-${i}.tar`);
        let tarUsage = { cpu: 0, rssMiB: 0 };
        let craneUsage = { cpu: 0, rssMiB: 0 };
        const ms = await timed(async () => {
          // The same normalisation imagewright does, so the comparison is like for like.
          tarUsage = await measured("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--transform", "s,^data,opt/data,", "-cf", tarFile, "-C", root, "data"]);
          craneUsage = await measured(CRANE, ["append", "--base", base, "--new_layer", tarFile, "--new_tag", output, "--insecure"]);
        });
        await rm(tarFile, { force: true });
        return { ms, cpu: tarUsage.cpu + craneUsage.cpu, peakRssMiB: Math.max(tarUsage.rssMiB, craneUsage.rssMiB), ...(await layerBytesOf(output)) };
      },
      "docker build + push": async (i) => {
        const output = `${registry.host}/bench/docker-${i}:1`;
        let buildUsage = { cpu: 0, rssMiB: 0 };
        let pushUsage = { cpu: 0, rssMiB: 0 };
        const ms = await timed(async () => {
          buildUsage = await measured("docker", ["build", "--no-cache", "--quiet", "--tag", output, root]);
          pushUsage = await measured("docker", ["push", "--quiet", output]);
        });
        images.push(output);
        return { ms, cpu: buildUsage.cpu + pushUsage.cpu, peakRssMiB: Math.max(buildUsage.rssMiB, pushUsage.rssMiB), ...(await layerBytesOf(output)) };
      },
    };

    const samples = new Map<string, Sample[]>(Object.keys(contenders).map((name) => [name, []]));
    // Interleaved rounds: each round runs every tool once, so drift on the shared machine hits all
    // alike; the order rotates so no tool always follows the same one, and `sync` first flushes what
    // the previous tool left dirty in the page cache (docker's and the registry's writes).
    const names = Object.keys(contenders);
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        const contender = contenders[name]!;
        await run("sync", []);
        const sample = await contender(i);
        samples.get(name)!.push(sample);
        say(`round ${i + 1}: ${name.padEnd(22)} ${sample.ms.toFixed(0).padStart(6)} ms  cpu ${sample.cpu.toFixed(2)} s  rss ${sample.peakRssMiB.toFixed(0)} MiB  layer ${(sample.layerBytes / 1e6).toFixed(1)} MB  ${sample.digest}`);
      }
    }

    const rows = [...samples.entries()].map(([tool, list]) => ({
      tool,
      medianMs: Math.round(median(list.map((s) => s.ms))),
      minMs: Math.round(Math.min(...list.map((s) => s.ms))),
      maxMs: Math.round(Math.max(...list.map((s) => s.ms))),
      medianCpuSeconds: Number(median(list.map((s) => s.cpu)).toFixed(2)),
      peakRssMiB: Math.round(Math.max(...list.map((s) => s.peakRssMiB))),
      layerMB: Number((median(list.map((s) => s.layerBytes)) / 1e6).toFixed(1)),
      distinctDigests: new Set(list.map((s) => s.digest)).size,
      digests: list.map((s) => s.digest),
    }));
    const docker = (await run("docker", ["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    const crane = (await run(CRANE, ["version"])).stdout.trim();
    const result = {
      benchmark: "assemble",
      date: new Date().toISOString(),
      node: process.version,
      docker,
      crane,
      base: LOCAL_BASE,
      megabytes,
      runs,
      rows,
    };
    await mkdir(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `build-assemble-${result.date.slice(0, 10)}.json`);
    await writeFile(file, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(
      [
        `base + ${megabytes} MB of files → registry, ${runs} interleaved rounds (docker ${docker}, crane ${crane}, node ${process.version})`,
        `${"tool".padEnd(22)} ${"median".padStart(9)} ${"min".padStart(7)} ${"max".padStart(7)} ${"cpu".padStart(7)} ${"rss".padStart(8)} ${"layer".padStart(9)}  digests`,
        ...rows.map(
          (r) =>
            `${r.tool.padEnd(22)} ${`${r.medianMs} ms`.padStart(9)} ${`${r.minMs}`.padStart(7)} ${`${r.maxMs}`.padStart(7)} ${`${r.medianCpuSeconds} s`.padStart(7)} ${`${r.peakRssMiB} MiB`.padStart(8)} ${`${r.layerMB} MB`.padStart(9)}  ${r.distinctDigests === 1 ? "identical on every run" : `${r.distinctDigests} different`}`,
        ),
        "(cpu: user + system of the tool's processes; for docker only the CLI's, the daemon's work is not counted)",
        `written to ${file}`,
      ].join("\n") + "\n",
    );
  } finally {
    for (const image of images) await run("docker", ["rmi", "--force", image]).catch(() => undefined);
    await client.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
