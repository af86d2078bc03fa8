// `imagewright test <image-ref>`: runs a product's sanity suite against an image in
// real containers and reports it for people (progress, table), CI (JUnit) and the vote (HTML).

import type { Command } from "commander";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ImagewrightError } from "../../errors/index.ts";
import { parseRegistryReference } from "../../oci/index.ts";
import type { KafkaSuiteOptions, SuiteReport } from "../../verify/index.ts";
// Only the option defaults load with the CLI; the suites (and the Kafka client) load when `test` runs.
import { KAFKA_SUITE_DEFAULTS, SUITES } from "../../verify/options.ts";
import { answer, progress, table } from "../output.ts";

interface TestOptions {
  suite: string;
  messages?: string;
  partitions?: string;
  clusterBrokers?: string;
  clusterControllers?: string;
  readyTimeout?: string;
  junit?: string;
  html?: string;
  reportDir?: string;
  steps?: string;
}

function count(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ImagewrightError("usage", `${flag} must be a whole number from ${min} to ${max}`, { input: `${flag} ${text}` });
  }
  return value;
}

async function write(path: string, text: string): Promise<string> {
  const absolute = resolve(path);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, text);
  return absolute;
}

const mark = { passed: "✓", failed: "✗", skipped: "-" } as const;

export function register(program: Command): void {
  program
    .command("test")
    .description("run a product's sanity suite against an image in real containers on the Docker Engine")
    .argument("<image-ref>", "the image to test, e.g. 127.0.0.1:5000/stackable/kafka:4.1.0_stackable0.1.0 (pulled when the engine lacks it)")
    .option("--suite <name>", `the suite to run: ${SUITES.join(", ")}`, "kafka")
    .option("--messages <n>", `messages produced and consumed (default ${KAFKA_SUITE_DEFAULTS.messages})`)
    .option("--partitions <n>", `partitions of the test topics (default ${KAFKA_SUITE_DEFAULTS.partitions})`)
    .option("--cluster-brokers <n>", `brokers of the cluster step (default ${KAFKA_SUITE_DEFAULTS.clusterBrokers})`)
    .option("--cluster-controllers <n>", `separate controllers of the cluster step (default ${KAFKA_SUITE_DEFAULTS.clusterControllers})`)
    .option("--ready-timeout <seconds>", `how long a broker may take to become ready (default ${KAFKA_SUITE_DEFAULTS.readyTimeoutMs / 1000})`)
    .option("--steps <ids>", "run only these steps, comma-separated (e.g. ready,topic,produce,consume)")
    .option("--junit <file>", "write the result as JUnit XML")
    .option("--html <file>", "write a readable HTML report")
    .option("--report-dir <dir>", "write report.json, junit.xml and report.html into this directory")
    .addHelpText(
      "after",
      `
Steps of the kafka suite: 1 ready (readiness probe), 2 topic, 3 produce, 4 consume (intact,
in order per partition), 5 restart and consume again, 6 environment beats mounted file,
7 combined KRaft node and a cluster with separate controllers, 8 mutual TLS.
Every run uses its own container names, network and host ports, and removes them at the end.
The exit code is 0 when every step passed, 1 when one failed.

Example:
  imagewright test 127.0.0.1:5000/stackable/kafka:4.1.0_stackable0.1.0 --report-dir reports/kafka`,
    )
    .action(async (imageRef: string, options: TestOptions, command: Command) => {
      if (!imageRef.startsWith("sha256:")) parseRegistryReference(imageRef);
      const readySeconds = count("--ready-timeout", options.readyTimeout, 5, 3600);
      const suiteOptions: Partial<KafkaSuiteOptions> = {};
      const set = <K extends keyof KafkaSuiteOptions>(key: K, value: KafkaSuiteOptions[K] | undefined): void => {
        if (value !== undefined) suiteOptions[key] = value;
      };
      set("messages", count("--messages", options.messages, 1, 1_000_000));
      set("partitions", count("--partitions", options.partitions, 1, 100));
      set("clusterBrokers", count("--cluster-brokers", options.clusterBrokers, 1, 9));
      set("clusterControllers", count("--cluster-controllers", options.clusterControllers, 1, 9));
      set("readyTimeoutMs", readySeconds === undefined ? undefined : readySeconds * 1000);

      progress(command, `testing ${imageRef} with the ${options.suite} suite`);
      const { renderHtml, renderJUnit, runNamedSuite } = await import("../../verify/index.ts");
      const only = options.steps?.split(",").map((id) => id.trim()).filter((id) => id !== "");
      const report = await runNamedSuite(options.suite, imageRef, suiteOptions, {
        ...(only === undefined ? {} : { only }),
        onStepStart: (step) => progress(command, `  … ${step.number} ${step.id}: ${step.title}`),
        onStepEnd: (step) => {
          const why = step.status === "passed" ? (step.detail ?? "") : (step.reason ?? "");
          progress(command, `  ${mark[step.status]} ${step.number} ${step.id} ${step.status} (${(step.durationMs / 1000).toFixed(1)} s) ${why}`);
        },
      });

      const files: Record<string, string> = {};
      if (options.reportDir !== undefined) {
        files["json"] = await write(join(options.reportDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
        files["junit"] = await write(join(options.reportDir, "junit.xml"), renderJUnit(report));
        files["html"] = await write(join(options.reportDir, "report.html"), renderHtml(report));
      }
      if (options.junit !== undefined) files["junit"] = await write(options.junit, renderJUnit(report));
      if (options.html !== undefined) files["html"] = await write(options.html, renderHtml(report));

      answer(command, { ...report, files }, (result: SuiteReport & { files: Record<string, string> }) =>
        [
          table(result.steps, [
            { header: "#", value: (step) => String(step.number), align: "right" },
            { header: "STEP", value: (step) => step.id },
            { header: "RESULT", value: (step) => step.status },
            { header: "TIME", value: (step) => `${(step.durationMs / 1000).toFixed(1)} s`, align: "right" },
            { header: "WHY", value: (step) => (step.status === "passed" ? "" : (step.reason ?? "")) },
          ]),
          "",
          `${result.passed ? "PASSED" : "FAILED"}: ${result.image} (${result.imageId.slice(0, 19)}), ${result.counts.passed} passed, ${result.counts.failed} failed, ${result.counts.skipped} skipped in ${(result.durationMs / 1000).toFixed(1)} s`,
          ...Object.entries(result.files).map(([kind, path]) => `${kind}: ${path}`),
        ].join("\n"),
      );
      if (!report.passed) process.exitCode = 1;
    });
}
