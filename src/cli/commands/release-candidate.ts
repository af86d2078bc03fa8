// `imagewright release rc`: cut a release candidate (verify the tarball, build, push to
// the evaluation repository, test, scan, record) and write the evaluation report.

import { join } from "node:path";
import type { Command } from "commander";
import { ImagewrightError } from "../../errors/index.ts";
import { RegistryClient } from "../../registry/index.ts";
import { cutCandidate, reportJson, writeReport } from "../../release/index.ts";
import type { EvaluationReport } from "../../release/index.ts";
import { loadIgnoreFile, SCANNER_NAMES, SEVERITIES } from "../../scan/index.ts";
import { answer, humanBytes, progress, table } from "../output.ts";
import { CATALOG_OPTION_HELP, catalogFromOptions } from "./catalog.ts";
import { parseAge, parseScanners, parseSeverity } from "./scan.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const RC_HELP = `
Verifies the tarball's SHA-512 against its checksum file (default: <artifact-url>.sha512),
builds every image of the product version from it (BuildKit, the catalog's plan), pushes
them to the evaluation repository under release-candidate tags, runs each image's sanity
suite and a scan, attaches a release record (OCI referrer) to each image, and writes the
evaluation report (markdown for the vote mail, HTML, JSON) plus each suite's JUnit and HTML.
Exit 0: ready for the vote; exit 1: pushed and reported, but a suite or scan gate failed.

Example:
  imagewright release rc kafka 4.1.0 --catalog examples/catalog \\
    --artifact-url https://dist.apache.org/repos/dist/dev/kafka/4.1.0-rc1/kafka_2.13-4.1.0.tgz`;

interface CandidateOptions {
  artifactUrl: string;
  checksumUrl?: string;
  rc?: string;
  catalog?: string;
  image?: string[];
  builder?: string;
  reportDir?: string;
  scanners: string;
  dbRoot?: string;
  maxDbAge: string;
  failOn: string;
  ignoreFile?: string;
  steps?: string[];
}

function parseRc(text: string): number {
  if (!/^\d{1,6}$/.test(text)) {
    throw new ImagewrightError("usage", `--rc "${text}" is not a whole number 0 or above`, { input: `--rc ${text}`, place: `character ${Math.max(1, [...text].findIndex((c) => c < "0" || c > "9") + 1)}` });
  }
  return Number(text);
}

/** `kafka-native=ready,topic,produce` → steps per image. */
function parseSteps(entries: readonly string[]): Record<string, string[]> {
  const steps: Record<string, string[]> = {};
  for (const entry of entries) {
    const at = entry.indexOf("=");
    if (at <= 0 || at === entry.length - 1) throw new ImagewrightError("usage", `--steps takes <image>=<step>[,<step>…], not "${entry}"`, { input: `--steps ${entry}` });
    steps[entry.slice(0, at)] = entry.slice(at + 1).split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
  return steps;
}

export function registerCandidate(release: Command): void {
  release
    .command("rc")
    .description("Cut a release candidate: build every image of a product version from the RC tarball, test, scan, push for evaluation, report.")
    .argument("<product>", "the product, e.g. kafka (its images kafka, kafka-native, …)")
    .argument("<product-version>", "e.g. 4.1.0")
    .requiredOption("--artifact-url <url>", "the release-candidate tarball")
    .option("--checksum-url <url>", "its SHA-512 file (default: <artifact-url>.sha512)")
    .option("--rc <n>", "the candidate number (default: one after the highest in the evaluation repository)")
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .option("--image <name>", "only this image of the product (repeatable; default: all that have the version)", collect)
    .option("--builder <name>", "buildx builder (default: $IMAGEWRIGHT_BUILDER, else the stack's imagewright)")
    .option("--report-dir <dir>", "where the reports go (default: release-reports/<product>-<version>-rc<n>)")
    .option("--scanners <list>", `comma-separated: ${SCANNER_NAMES.join(", ")}`, "trivy")
    .option("--db-root <dir>", "a folder with one database folder per scanner (default: $IMAGEWRIGHT_SCANNER_DB)")
    .option("--max-db-age <duration>", "a database built longer ago than this is stale (24h, 3d)", "72h")
    .option("--fail-on <severity>", `scan gate threshold: ${[...SEVERITIES].reverse().join(", ")} or none`, "high")
    .option("--ignore-file <file>", "accepted findings, each with a reason and an expiry date (listed in the report)")
    .option("--steps <image=ids>", "run only these suite steps for an image (repeatable), e.g. kafka-native=ready,topic,produce,consume", collect)
    .addHelpText("after", RC_HELP)
    .action(async (product: string, productVersion: string, options: CandidateOptions, command: Command) => {
      const catalog = catalogFromOptions(options);
      const dbRoot = options.dbRoot ?? process.env["IMAGEWRIGHT_SCANNER_DB"];
      const client = new RegistryClient();
      try {
        const report = await cutCandidate({
          catalog,
          client,
          product,
          productVersion,
          artifactUrl: options.artifactUrl,
          ...(options.checksumUrl === undefined ? {} : { checksumUrl: options.checksumUrl }),
          ...(options.rc === undefined ? {} : { rc: parseRc(options.rc) }),
          ...(options.image === undefined ? {} : { images: options.image }),
          builder: options.builder ?? (process.env["IMAGEWRIGHT_BUILDER"] || "imagewright"),
          scan: {
            scanners: parseScanners(options.scanners),
            failOn: parseSeverity(options.failOn),
            ignores: options.ignoreFile === undefined ? [] : await loadIgnoreFile(options.ignoreFile),
            setup: { databases: {}, ...(dbRoot === undefined || dbRoot === "" ? {} : { databaseRoot: dbRoot }), maxDatabaseAgeMs: parseAge(options.maxDbAge), now: new Date(), env: process.env },
          },
          ...(options.steps === undefined ? {} : { steps: parseSteps(options.steps) }),
          onProgress: (line) => progress(command, line),
        });
        const directory = options.reportDir ?? join("release-reports", `${product}-${productVersion}-rc${report.rc}`);
        const files = await writeReport(report, directory);
        answer(command, { ...reportJson(report), files }, (result) => renderCandidate(result, files));
        if (report.verdict !== "ready-for-vote") process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}

function renderCandidate(report: EvaluationReport, files: string[]): string {
  return [
    table(report.images, [
      { header: "IMAGE", value: (i) => i.image },
      { header: "TAG", value: (i) => i.facts.reference },
      { header: "DIGEST", value: (i) => i.facts.digest },
      { header: "SIZE", value: (i) => humanBytes(i.facts.size), align: "right" },
      { header: "PLATFORMS", value: (i) => i.facts.platforms.map((p) => p.platform).join(",") },
      { header: "TESTS", value: (i) => (i.tests.status === "not-run" ? "not run" : `${i.tests.status} ${i.tests.counts.passed}/${i.tests.counts.passed + i.tests.counts.failed + i.tests.counts.skipped}`) },
      { header: "SCAN", value: (i) => i.scan.gate },
    ]),
    "",
    `inputs: ${report.inputs.artifactUrl} sha512 ${report.inputs.sha512.slice(0, 16)}…, catalog ${report.inputs.catalogRevision.slice(0, 12)}${report.inputs.catalogDirty ? " (dirty)" : ""}`,
    ...report.images.flatMap((i) => i.problems.map((p) => `${i.image}: ${p}`)),
    `verdict: ${report.verdict}`,
    `reports: ${files.join(", ")}`,
  ].join("\n");
}
