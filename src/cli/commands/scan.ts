// `imagewright scan <ref>` and `imagewright scan --supported`: a few lines over src/scan.

import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ImagewrightError } from "../../errors/index.ts";
import { RegistryClient } from "../../registry/index.ts";
import {
  defaultStateDirectory,
  isAtOrAbove,
  loadIgnoreFile,
  renderJunit,
  renderMarkdown,
  renderSarif,
  renderTable,
  REPORT_FORMATS,
  SCANNER_NAMES,
  scanImages,
  SEVERITIES,
  supportedImages,
} from "../../scan/index.ts";
import type { ReportFormat, ScannerName, ScanReport, ScanRequest, Severity } from "../../scan/index.ts";
import { answer, outputOptions, progress } from "../output.ts";
import { CATALOG_OPTION_HELP, catalogFromOptions } from "./catalog.ts";

interface ScanCommandOptions {
  supported?: boolean;
  catalog?: string;
  scanners: string;
  db: string[];
  dbRoot?: string;
  maxDbAge: string;
  failOn: string;
  ignoreFile?: string;
  format: string;
  output: string[];
  state?: string;
  keep: boolean;
  sbom: boolean;
  sbomDir?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function usage(message: string, input: string, hint?: string): ImagewrightError {
  return new ImagewrightError("usage", message, { input, ...(hint === undefined ? {} : { hint }) });
}

export function parseScanners(text: string): ScannerName[] {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!(SCANNER_NAMES as readonly string[]).includes(name)) throw usage(`unknown scanner ${JSON.stringify(name)}`, `--scanners ${text}`, `one or more of ${SCANNER_NAMES.join(", ")}`);
  }
  return [...new Set(names)] as ScannerName[];
}

function parseDatabases(entries: readonly string[]): Partial<Record<ScannerName, string>> {
  const databases: Partial<Record<ScannerName, string>> = {};
  for (const entry of entries) {
    const at = entry.indexOf("=");
    const name = entry.slice(0, at);
    if (at <= 0 || !(SCANNER_NAMES as readonly string[]).includes(name) || entry.slice(at + 1) === "") {
      throw usage(`--db takes <scanner>=<path>, not ${JSON.stringify(entry)}`, `--db ${entry}`, `scanner is one of ${SCANNER_NAMES.join(", ")}`);
    }
    databases[name as ScannerName] = entry.slice(at + 1);
  }
  return databases;
}

/** "72h", "3d", "90m" → milliseconds. */
export function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhd])$/.exec(text.trim());
  if (match === null) throw usage(`--max-db-age ${JSON.stringify(text)} is not a duration`, `--max-db-age ${text}`, "e.g. 24h, 3d, 90m");
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

export function parseSeverity(text: string): Severity | "none" {
  const value = text.toLowerCase();
  if (value === "none" || (SEVERITIES as readonly string[]).includes(value)) return value as Severity | "none";
  throw usage(`--fail-on ${JSON.stringify(text)} is not a severity`, `--fail-on ${text}`, `one of ${[...SEVERITIES].reverse().join(", ")}, none`);
}

function parseFormat(text: string, option: string): ReportFormat {
  if ((REPORT_FORMATS as readonly string[]).includes(text)) return text as ReportFormat;
  throw usage(`unknown report format ${JSON.stringify(text)}`, `${option} ${text}`, `one of ${REPORT_FORMATS.join(", ")}`);
}

export function render(report: ScanReport, format: ReportFormat): string {
  const failing = (f: Parameters<typeof isAtOrAbove>[0]): boolean => isAtOrAbove(f, report.gate.failOn);
  switch (format) {
    case "table":
      return renderTable(report) + "\n";
    case "json":
      return JSON.stringify(report, null, 2) + "\n";
    case "sarif":
      return renderSarif(report);
    case "markdown":
      return renderMarkdown(report);
    case "junit":
      return renderJunit(report, failing);
  }
}

const HELP = `
Scanners run offline against databases given by path; nothing is downloaded.
A scanner that is missing, or whose database is missing or older than --max-db-age,
makes the gate UNAVAILABLE (exit 6): a scan that could not look is never clean.
Findings at or above --fail-on make it FAILED (exit 1). Unavailable wins over failed.

Databases (per scanner: --db, else $IMAGEWRIGHT_<SCANNER>_DB, else <--db-root>/<scanner>):
  trivy        trivy's cache directory (db/trivy.db + db/metadata.json, java-db/)
  osv-scanner  the local DB path (osv-scalibr/<Ecosystem>/all.zip)
  grype        grype's DB cache directory (as \`grype db status\` reads it)

Ignore file (YAML):
  ignore:
    - id: CVE-2011-3374            # or any alias (GHSA-…, DSA-…)
      package: apt                 # optional: name, source package or purl prefix
      reason: apt-key is not used in the image
      expires: 2027-01-31          # after this day the entry stops ignoring and is reported

Examples:
  imagewright scan 127.0.0.1:5000/upstream/debian:bookworm --db-root ~/.cache/imagewright/scanners-db
  imagewright scan --supported --catalog examples/catalog --scanners trivy,osv-scanner \\
      --fail-on high --output sarif=scan.sarif --output markdown=scan.md --output junit=scan.xml`;

export function register(program: Command): void {
  program
    .command("scan")
    .description("scan images for vulnerabilities with real scanners (trivy, grype, osv-scanner) and gate on severity")
    .argument("[reference]", "the image: registry reference, oci:<dir>[:tag] or docker-archive:<file>")
    .option("--supported", "scan the newest released image of every supported product version in the catalog")
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .option("--scanners <list>", `comma-separated: ${SCANNER_NAMES.join(", ")}`, "trivy")
    .option("--db <scanner=path>", "a scanner's database (repeatable)", collect, [])
    .option("--db-root <dir>", "a folder with one database folder per scanner (default: $IMAGEWRIGHT_SCANNER_DB)")
    .option("--max-db-age <duration>", "a database built longer ago than this is stale (24h, 3d)", "72h")
    .option("--fail-on <severity>", `gate threshold: ${[...SEVERITIES].reverse().join(", ")} or none`, "high")
    .option("--ignore-file <file>", "accepted findings, each with a reason and an expiry date")
    .option("--format <format>", `report on stdout: ${REPORT_FORMATS.join(", ")}`, "table")
    .option("--output <format=file>", "also write a report to a file (repeatable)", collect, [])
    .option("--state <dir>", "where scans are kept for the next comparison (default: $IMAGEWRIGHT_STATE, else ~/.local/state/imagewright)")
    .option("--no-keep", "neither compare with nor keep scans")
    .option("--no-sbom", "do not write a CycloneDX SBOM per image")
    .option("--sbom-dir <dir>", "where SBOMs go (default: <state>/sboms)")
    .addHelpText("after", HELP)
    .action(async (reference: string | undefined, options: ScanCommandOptions, command: Command) => {
      if ((reference === undefined) === (options.supported !== true)) {
        throw usage("scan takes an image reference or --supported (one of the two)", reference ?? "--supported");
      }
      const scanners = parseScanners(options.scanners);
      const failOn = parseSeverity(options.failOn);
      const stdoutFormat = outputOptions(command).json ? "json" : parseFormat(options.format, "--format");
      const outputs = options.output.map((entry) => {
        const at = entry.indexOf("=");
        if (at <= 0 || at === entry.length - 1) throw usage(`--output takes <format>=<file>, not ${JSON.stringify(entry)}`, `--output ${entry}`);
        return { format: parseFormat(entry.slice(0, at), "--output"), file: entry.slice(at + 1) };
      });
      const ignores = options.ignoreFile === undefined ? [] : await loadIgnoreFile(options.ignoreFile);
      const dbRoot = options.dbRoot ?? process.env["IMAGEWRIGHT_SCANNER_DB"];
      const client = new RegistryClient();
      try {
        let requests: ScanRequest[];
        let unreleased: string[] = [];
        if (options.supported === true) {
          const catalog = catalogFromOptions(options);
          const found = await supportedImages(catalog, client);
          requests = found.images;
          unreleased = found.unreleased;
          for (const name of unreleased) progress(command, `${name}: supported, but no released image in the registry`);
        } else {
          requests = [{ reference: reference ?? "" }];
        }
        const report = await scanImages(requests, {
          scanners,
          setup: {
            databases: parseDatabases(options.db),
            ...(dbRoot === undefined || dbRoot === "" ? {} : { databaseRoot: dbRoot }),
            maxDatabaseAgeMs: parseAge(options.maxDbAge),
            now: new Date(),
            env: process.env,
          },
          failOn,
          ignores,
          state: options.keep ? (options.state ?? defaultStateDirectory()) : undefined,
          sbom: options.sbom,
          ...(options.sbomDir === undefined ? {} : { sbomDirectory: options.sbomDir }),
          client,
          progress: (line) => progress(command, line),
        });
        const result: ScanReport = unreleased.length === 0 ? report : { ...report, unreleased };
        for (const { format, file } of outputs) await writeFile(file, render(result, format));
        if (stdoutFormat === "json") answer(command, result, () => "");
        else answer(command, result, () => render(result, stdoutFormat));
        if (report.gate.outcome === "unavailable") process.exitCode = 6;
        else if (report.gate.outcome === "failed") process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}
