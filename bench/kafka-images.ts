// Kafka image figures (issue 5): image sizes (compressed in a registry, unpacked in the
// engine), startup-to-ready time and the sanity suite's duration, per image — the JVM
// images of both fixture versions and the daemonlessly assembled kafka-native.
//   bash bench/run.sh kafka-images [--runs 3]
// Writes bench/results/kafka-images-<date>.json; docs/benchmarks.md ("Kafka images") has the figures.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RegistryClient } from "../src/registry/index.ts";
import type { SuiteReport } from "../src/verify/index.ts";
import { runCli } from "../test/support/cli.ts";
import { startRegistry } from "../test/support/registry.ts";
import { kafkaImage } from "../test/kafka/images.ts";
import { assembleNativeImage, buildStandin, stageNativeTree } from "../test/kafka/native.ts";

const exec = promisify(execFile);
const RESULTS = fileURLToPath(new URL("./results", import.meta.url));
const runsFlag = process.argv.indexOf("--runs");
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 3;

interface ImageFigures {
  image: string;
  ref: string;
  compressedBytes: number;
  unpackedBytes: number;
  startupToReadyMs: { runs: number[]; median: number };
  suite: { steps: string; durationMs: number; passed: boolean; stepMs: Record<string, number> };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function suite(ref: string, steps?: string): Promise<SuiteReport> {
  const args = ["--json", "test", ref, ...(steps === undefined ? [] : ["--steps", steps])];
  const result = await runCli(args, { timeoutMs: 30 * 60_000 });
  return JSON.parse(result.stdout) as SuiteReport;
}

const tagged: string[] = [];

async function measure(image: string, local: string, registryHost: string, steps?: string): Promise<ImageFigures> {
  const remote = `${registryHost}/bench/${image}`;
  tagged.push(remote);
  if (local !== remote) {
    await exec("docker", ["tag", local, remote]);
    await exec("docker", ["push", remote], { maxBuffer: 64 * 1024 * 1024 });
  } else {
    await exec("docker", ["pull", "--quiet", remote]);
  }
  const [repository, tag] = [remote.slice(registryHost.length + 1, remote.lastIndexOf(":")), remote.slice(remote.lastIndexOf(":") + 1)];
  const response = await fetch(`http://${registryHost}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  const manifest = (await response.json()) as { config: { size: number }; layers: { size: number }[] };
  const compressedBytes = manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
  const unpackedBytes = Number((await exec("docker", ["image", "inspect", "--format", "{{.Size}}", remote])).stdout.trim());

  const startups: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const report = await suite(remote, "ready");
    const ms = report.steps[0]?.measurements?.["startupToReadyMs"];
    if (report.passed && ms !== undefined) startups.push(ms);
    process.stderr.write(`${image}: ready run ${i + 1}: ${ms ?? "failed"} ms\n`);
  }
  const full = await suite(remote, steps);
  process.stderr.write(`${image}: suite ${full.passed ? "passed" : "FAILED"} in ${full.durationMs} ms\n`);
  return {
    image,
    ref: remote,
    compressedBytes,
    unpackedBytes,
    startupToReadyMs: { runs: startups, median: median(startups) },
    suite: {
      steps: steps ?? "all",
      durationMs: full.durationMs,
      passed: full.passed,
      stepMs: Object.fromEntries(full.steps.map((step) => [`${step.number} ${step.id}`, step.durationMs])),
    },
  };
}

const work = await mkdtemp(join(tmpdir(), "iw-bench-kafka-"));
const registry = await startRegistry({ ports: [15590, 15599] });
const client = new RegistryClient();
const load = [loadavg()[0]];
const figures: ImageFigures[] = [];
try {
  for (const version of ["3.9.1", "4.1.0"]) {
    const built = await kafkaImage(version);
    figures.push(await measure(`kafka:${version}`, built.ref, registry.host));
  }
  const { stdout } = await exec("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "imagewright-test/debian-base"]);
  const debian = stdout.trim().split("\n")[0]!;
  const base = `${registry.host}/bench/debian-base:12`;
  await exec("docker", ["tag", debian, base]);
  await exec("docker", ["push", base]);
  tagged.push(base);
  const tree = join(work, "tree");
  await stageNativeTree(await buildStandin(work), tree);
  const native = await assembleNativeImage(client, base, tree, `${registry.host}/bench/kafka-native:4.1.0`, "4.1.0");
  figures.push(await measure("kafka-native:4.1.0", native.ref, registry.host, "ready,topic,produce,consume,restart,env-over-file"));
  load.push(loadavg()[0]);
  await mkdir(RESULTS, { recursive: true });
  const file = join(RESULTS, `kafka-images-${new Date().toISOString().slice(0, 10)}.json`);
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, loadAverage1m: load, figures }, null, 2) + "\n");
  for (const f of figures) {
    process.stdout.write(
      `${f.image.padEnd(20)} compressed ${(f.compressedBytes / 1e6).toFixed(1)} MB  unpacked ${(f.unpackedBytes / 1e6).toFixed(1)} MB  ready ${(f.startupToReadyMs.median / 1000).toFixed(1)} s (median of ${f.startupToReadyMs.runs.length})  suite ${(f.suite.durationMs / 1000).toFixed(1)} s ${f.suite.passed ? "passed" : "FAILED"}\n`,
    );
  }
  process.stdout.write(`results: ${file}\n`);
} finally {
  for (const ref of tagged) await exec("docker", ["rmi", ref]).catch(() => undefined);
  await client.close();
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
