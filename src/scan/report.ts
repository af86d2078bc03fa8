// A scan report in the formats its readers want: a table for people, SARIF for code
// scanning dashboards, markdown for a pull request or a vote, JUnit for CI test views.

import { table } from "../cli/output.ts";
import type { Finding, ImageScan, ScanReport, Severity } from "./model.ts";
import { SEVERITIES } from "./model.ts";

export const REPORT_FORMATS = ["table", "json", "sarif", "markdown", "junit"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

function fixText(finding: Finding): string {
  return finding.fixedVersions.length === 0 ? "-" : finding.fixedVersions.join(", ");
}

function countsText(counts: Record<Severity, number>): string {
  return [...SEVERITIES].reverse().map((s) => `${counts[s]} ${s}`).join(", ");
}

function scannerLine(image: ImageScan): string {
  return image.scanners.map((s) => `${s.scanner} ${s.state}${s.version === undefined ? "" : ` ${s.version}`}${s.detail === undefined || s.state === "ok" ? "" : ` (${s.detail})`}`).join("; ");
}

/** The human rendering: per image, the scanners' states, a findings table and the difference. */
export function renderTable(report: ScanReport): string {
  const parts: string[] = [];
  for (const image of report.images) {
    const title = image.catalog === undefined ? image.reference : `${image.reference}  (${image.catalog.image} ${image.catalog.productVersion}, image ${image.catalog.imageVersion})`;
    parts.push(title, `  digest:   ${image.digest || "-"}`, `  scanners: ${scannerLine(image)}`);
    const ran = image.scanners.filter((s) => s.state === "ok").length;
    parts.push(ran === 0 ? "  found:    UNKNOWN: no scanner could run" : `  found:    ${countsText(image.counts)}${ran < image.scanners.length ? " (incomplete: not every scanner ran)" : ""}`);
    if (image.findings.length > 0) {
      const rows = table(image.findings, [
        { header: "SEVERITY", value: (f) => f.severity.toUpperCase() + (f.ignored === undefined ? "" : " (ignored)") },
        { header: "ID", value: (f) => f.id },
        { header: "PACKAGE", value: (f) => f.package.name + (f.package.sourceName !== undefined && f.package.sourceName !== f.package.name ? ` (${f.package.sourceName})` : "") },
        { header: "INSTALLED", value: (f) => f.package.installedVersion },
        { header: "FIXED", value: fixText },
        { header: "SCANNERS", value: (f) => f.scanners.join(",") },
      ]);
      parts.push(...rows.split("\n").map((line) => `  ${line}`));
    }
    const d = image.difference;
    parts.push(
      d.previousScannedAt === undefined
        ? `  since last scan: first scan of this reference`
        : `  since last scan (${d.previousScannedAt}): ${d.new.length} new, ${d.fixed.length} fixed, ${d.remaining} remaining`,
    );
    for (const f of d.previousScannedAt === undefined ? [] : d.new) parts.push(`    + ${f.id} ${f.package} ${f.installedVersion}`);
    for (const f of d.fixed) parts.push(`    - ${f.id} ${f.package} ${f.installedVersion}`);
    if (image.patchRelease.needed) {
      parts.push(`  patch release needed${image.patchRelease.nextImageVersion === undefined ? "" : ` (image ${image.patchRelease.nextImageVersion})`}: fixes exist for ${image.patchRelease.fixable.map((f) => f.id).join(", ")}`);
    }
    for (const e of image.ignores.expired) parts.push(`  expired ignore entry: ${e.id} (expired ${e.expires}, ${e.place}) no longer ignores`);
    if (image.sbom !== undefined) parts.push(`  sbom:     ${image.sbom.path} (${image.sbom.generator}, ${image.sbom.components} components)`);
    parts.push("");
  }
  if (report.unreleased !== undefined && report.unreleased.length > 0) parts.push(`supported, not released (nothing to scan): ${report.unreleased.join(", ")}`, "");
  parts.push(`gate (fail on ${report.gate.failOn}): ${report.gate.outcome.toUpperCase()}${report.gate.reasons.length === 0 ? "" : ": " + report.gate.reasons.join("; ")}`);
  return parts.join("\n");
}

const SARIF_LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note", unknown: "warning" };
const SARIF_SCORE: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "2.0", unknown: "0.0" };

/** SARIF 2.1.0 as GitHub code scanning reads it: one rule per advisory, one result per finding. */
export function renderSarif(report: ScanReport): string {
  const rules = new Map<string, Record<string, unknown>>();
  const results: Record<string, unknown>[] = [];
  for (const image of report.images) {
    for (const f of image.findings) {
      if (!rules.has(f.id)) {
        rules.set(f.id, {
          id: f.id,
          name: f.id.replace(/[^A-Za-z0-9]/g, ""),
          shortDescription: { text: f.title ?? `${f.id} in ${f.package.name}` },
          helpUri: f.id.startsWith("GHSA-") ? `https://github.com/advisories/${f.id}` : `https://osv.dev/vulnerability/${f.id}`,
          help: { text: `${f.id} (${[f.id, ...f.aliases].join(", ")})`, markdown: `**${f.id}** — aliases: ${f.aliases.join(", ") || "none"}` },
          properties: { "security-severity": SARIF_SCORE[f.severity], tags: ["security", "vulnerability", f.severity] },
        });
      }
      const location = f.package.path ?? (f.package.type === "deb" ? "var/lib/dpkg/status" : f.package.name);
      results.push({
        ruleId: f.id,
        level: SARIF_LEVEL[f.severity],
        message: {
          text: `${f.package.name} ${f.package.installedVersion} in ${image.reference} has ${f.id} (${f.severity}); fixed in: ${fixText(f)}; found by ${f.scanners.join(", ")}`,
        },
        locations: [{ physicalLocation: { artifactLocation: { uri: location, uriBaseId: "IMAGE" } }, logicalLocations: [{ name: image.reference, kind: "image" }] }],
        partialFingerprints: { "imagewright/v1": `${image.reference}|${f.id}|${f.package.purl.split("@")[0] ?? f.package.purl}` },
        ...(f.ignored === undefined ? {} : { suppressions: [{ kind: "external", justification: `${f.ignored.reason} (until ${f.ignored.expires})` }] }),
        properties: { image: image.reference, digest: image.digest, purl: f.package.purl, fixedVersions: f.fixedVersions, layer: f.layer, scanners: f.scanners },
      });
    }
  }
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "imagewright", informationUri: "https://github.com/imagewright/imagewright", rules: [...rules.values()] } },
        originalUriBaseIds: { IMAGE: { description: { text: "the root of the scanned image's file system" } } },
        results,
        invocations: [{ executionSuccessful: report.gate.outcome !== "unavailable", toolExecutionNotifications: report.images.flatMap((i) => i.scanners.filter((s) => s.state !== "ok").map((s) => ({ level: "error", message: { text: `${i.reference}: ${s.scanner} ${s.state}${s.detail === undefined ? "" : `: ${s.detail}`}` } }))) }],
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + "\n";
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A markdown summary: the gate, a line per image, then findings and changes. */
export function renderMarkdown(report: ScanReport): string {
  const lines = [
    `# Vulnerability scan — ${report.gate.outcome.toUpperCase()}`,
    "",
    `Scanned ${report.scannedAt}; gate fails on **${report.gate.failOn}** and above.${report.gate.reasons.length === 0 ? "" : ` ${report.gate.reasons.join("; ")}.`}`,
    "",
    "| Image | Digest | Critical | High | Medium | Low | Unknown | New | Fixed | Patch release | Scanners |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
  ];
  for (const i of report.images) {
    const c = i.counts;
    lines.push(
      `| ${escapeCell(i.reference)} | \`${i.digest.slice(0, 19)}\` | ${c.critical} | ${c.high} | ${c.medium} | ${c.low} | ${c.unknown} | ${i.difference.previousScannedAt === undefined ? "first scan" : i.difference.new.length} | ${i.difference.fixed.length} | ${i.patchRelease.needed ? `needed${i.patchRelease.nextImageVersion === undefined ? "" : ` → ${i.patchRelease.nextImageVersion}`}` : "no"} | ${escapeCell(scannerLine(i))} |`,
    );
  }
  if (report.unreleased !== undefined && report.unreleased.length > 0) lines.push("", `Supported but not released (nothing to scan): ${report.unreleased.join(", ")}.`);
  for (const i of report.images) {
    lines.push("", `## ${i.reference}`, "");
    if (i.findings.length === 0) lines.push("No findings.");
    else {
      lines.push("| Severity | ID | Package | Installed | Fixed | Scanners |", "|---|---|---|---|---|---|");
      for (const f of i.findings) {
        lines.push(`| ${f.severity}${f.ignored === undefined ? "" : " (ignored)"} | ${f.id} | ${escapeCell(f.package.name)} | ${escapeCell(f.package.installedVersion)} | ${escapeCell(fixText(f))} | ${f.scanners.join(", ")} |`);
      }
    }
    if (i.difference.previousScannedAt !== undefined) {
      lines.push("", `Since ${i.difference.previousScannedAt}: ${i.difference.new.length} new, ${i.difference.fixed.length} fixed, ${i.difference.remaining} remaining.`);
      for (const f of i.difference.new) lines.push(`- new: ${f.id} in ${f.package} ${f.installedVersion}`);
      for (const f of i.difference.fixed) lines.push(`- fixed: ${f.id} in ${f.package} ${f.installedVersion}`);
    }
    for (const e of i.ignores.expired) lines.push(`- expired ignore entry ${e.id} (${e.expires}, ${e.place}): no longer ignored`);
  }
  return lines.join("\n") + "\n";
}

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** JUnit XML: a suite per image, a test case per finding (failing at or above the gate) and per scanner. */
export function renderJunit(report: ScanReport, failOn: (finding: Finding) => boolean): string {
  const suites: string[] = [];
  let total = 0;
  let failures = 0;
  let errors = 0;
  for (const image of report.images) {
    const cases: string[] = [];
    let suiteFailures = 0;
    let suiteErrors = 0;
    for (const s of image.scanners) {
      const ok = s.state === "ok";
      if (!ok) suiteErrors++;
      cases.push(`    <testcase classname="${xml(image.reference)}.scanners" name="${xml(s.scanner)}"${s.seconds === undefined ? "" : ` time="${s.seconds.toFixed(3)}"`}>${ok ? "" : `<error type="${xml(s.state)}" message="${xml(`${s.scanner} ${s.state}${s.detail === undefined ? "" : `: ${s.detail}`}`)}"/>`}</testcase>`);
    }
    for (const f of image.findings) {
      const failing = f.ignored === undefined && failOn(f);
      if (failing) suiteFailures++;
      const name = `${f.id} ${f.package.name} ${f.package.installedVersion}`;
      const body = failing
        ? `<failure type="${xml(f.severity)}" message="${xml(`${f.severity} ${f.id} in ${f.package.name} ${f.package.installedVersion}; fixed in ${fixText(f)}`)}"/>`
        : f.ignored !== undefined
          ? `<skipped message="${xml(`ignored until ${f.ignored.expires}: ${f.ignored.reason}`)}"/>`
          : `<system-out>${xml(`${f.severity} below the gate`)}</system-out>`;
      cases.push(`    <testcase classname="${xml(image.reference)}.vulnerabilities" name="${xml(name)}">${body}</testcase>`);
    }
    total += cases.length;
    failures += suiteFailures;
    errors += suiteErrors;
    suites.push(`  <testsuite name="${xml(image.reference)}" tests="${cases.length}" failures="${suiteFailures}" errors="${suiteErrors}" timestamp="${xml(image.scannedAt)}">\n${cases.join("\n")}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="imagewright scan" tests="${total}" failures="${failures}" errors="${errors}">\n${suites.join("\n")}\n</testsuites>\n`;
}
