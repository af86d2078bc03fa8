// The evaluation report for the vote: markdown to paste into the vote mail, HTML to
// link, JSON for tools — one EvaluationReport rendered three ways so they never disagree.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderHtml as renderSuiteHtml, renderJUnit } from "../verify/index.ts";
import type { CandidateImage, EvaluationReport } from "./candidate.ts";

function bytes(size: number): string {
  return size >= 1_000_000 ? `${(size / 1_000_000).toFixed(1)} MB` : `${(size / 1000).toFixed(1)} kB`;
}

function testsCell(image: CandidateImage): string {
  const t = image.tests;
  if (t.status === "not-run") return "not run (no suite)";
  return `${t.status} (${t.counts.passed} passed, ${t.counts.failed} failed, ${t.counts.skipped} skipped)`;
}

function scanCell(image: CandidateImage): string {
  const counts = Object.entries(image.scan.counts).map(([severity, n]) => `${n} ${severity}`).join(", ") || "no findings";
  return `${image.scan.gate} at ${image.scan.failOn} (${counts})`;
}

export function renderMarkdown(report: EvaluationReport): string {
  const lines = [
    `# ${report.product} ${report.productVersion} RC${report.rc}: evaluation report`,
    "",
    `Verdict: **${report.verdict === "ready-for-vote" ? "ready for the vote" : "NOT releasable"}**`,
    "",
    "## Images",
    "",
    "| image | tag | digest | size | platforms | tests | scan |",
    "|---|---|---|---|---|---|---|",
    ...report.images.map((i) => `| ${i.image} | \`${i.facts.reference}\` | \`${i.facts.digest}\` | ${bytes(i.facts.size)} | ${i.facts.platforms.map((p) => p.platform).join(", ")} | ${testsCell(i)} | ${scanCell(i)} |`),
    "",
    "Pull by digest to evaluate exactly what is voted on:",
    "",
    "```",
    ...report.images.map((i) => `docker pull ${i.facts.reference.slice(0, i.facts.reference.lastIndexOf(":"))}@${i.facts.digest}`),
    "```",
    "",
    "## Tests",
    "",
  ];
  for (const image of report.images) {
    lines.push(`### ${image.image} (${image.tests.suite} suite)`, "");
    if (image.tests.steps.length === 0) {
      lines.push("No suite ran.", "");
      continue;
    }
    lines.push("| step | result | time | note |", "|---|---|---|---|");
    for (const step of image.tests.steps) lines.push(`| ${step.id} — ${step.title} | ${step.status} | ${(step.durationMs / 1000).toFixed(1)} s | ${(step.reason ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")} |`);
    lines.push("");
  }
  lines.push("## Scan", "");
  for (const image of report.images) {
    lines.push(`- ${image.image}: ${scanCell(image)} with ${image.scan.scanners.join(", ")}${image.scan.reasons.length > 0 ? ` — ${image.scan.reasons.join("; ")}` : ""}`);
    for (const finding of image.scan.ignored) lines.push(`  - accepted ${finding.severity} ${finding.id} in ${finding.package}: ${finding.reason}`);
  }
  lines.push(
    "",
    "## Inputs",
    "",
    `- artifact: ${report.inputs.artifactUrl} (${bytes(report.inputs.artifactSize)})`,
    `- checksum: ${report.inputs.checksumUrl}`,
    `- sha512: \`${report.inputs.sha512}\``,
    `- catalog revision: \`${report.inputs.catalogRevision}\`${report.inputs.catalogDirty ? " (with uncommitted changes)" : ""}`,
    "",
    "## Release records",
    "",
    ...report.images.map((i) => `- ${i.image}: \`${i.record}\` (OCI referrer of \`${i.facts.digest}\`)`),
  );
  const problems = report.images.flatMap((i) => i.problems.map((p) => `- ${i.image}: ${p}`));
  if (problems.length > 0) lines.push("", "## Problems", "", ...problems);
  lines.push("", `Made by imagewright on ${report.createdAt} in ${(report.durationMs / 1000).toFixed(0)} s.`, "");
  return lines.join("\n");
}

const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderHtml(report: EvaluationReport): string {
  const title = `${report.product} ${report.productVersion} RC${report.rc}: evaluation report`;
  const rows = report.images
    .map(
      (i) =>
        `<tr class="${i.problems.length === 0 ? "passed" : "failed"}"><td>${escape(i.image)}</td><td><code>${escape(i.facts.reference)}</code></td><td><code>${escape(i.facts.digest)}</code></td><td>${bytes(i.facts.size)}</td><td>${escape(i.facts.platforms.map((p) => `${p.platform} ${p.digest}`).join("\n")).replace(/\n/g, "<br>")}</td><td>${escape(testsCell(i))}</td><td>${escape(scanCell(i))}</td></tr>`,
    )
    .join("\n");
  const steps = report.images
    .map((i) => `<h3>${escape(i.image)}</h3><table><tr><th>step</th><th>result</th><th>time</th><th>note</th></tr>${i.tests.steps.map((s) => `<tr class="${s.status}"><td>${escape(s.id)} — ${escape(s.title)}</td><td>${s.status}</td><td>${(s.durationMs / 1000).toFixed(1)} s</td><td>${escape(s.reason ?? "")}</td></tr>`).join("")}</table>`)
    .join("\n");
  const problems = report.images.flatMap((i) => i.problems.map((p) => `<li>${escape(i.image)}: ${escape(p)}</li>`));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}.passed td:first-child{border-left:4px solid #2a2}.failed td:first-child{border-left:4px solid #c22}code{font-size:90%}</style></head>
<body><h1>${escape(title)}</h1>
<p>Verdict: <strong>${report.verdict === "ready-for-vote" ? "ready for the vote" : "NOT releasable"}</strong></p>
<h2>Images</h2><table><tr><th>image</th><th>tag</th><th>digest</th><th>size</th><th>platforms</th><th>tests</th><th>scan</th></tr>
${rows}</table>
<h2>Tests</h2>${steps}
<h2>Accepted findings</h2><ul>${report.images.flatMap((i) => i.scan.ignored.map((f) => `<li>${escape(i.image)}: ${escape(f.severity)} ${escape(f.id)} in ${escape(f.package)}: ${escape(f.reason)}</li>`)).join("") || "<li>none</li>"}</ul>
<h2>Inputs</h2><ul><li>artifact: <code>${escape(report.inputs.artifactUrl)}</code></li><li>checksum: <code>${escape(report.inputs.checksumUrl)}</code></li><li>sha512: <code>${escape(report.inputs.sha512)}</code></li><li>catalog revision: <code>${escape(report.inputs.catalogRevision)}</code>${report.inputs.catalogDirty ? " (with uncommitted changes)" : ""}</li></ul>
<h2>Release records</h2><ul>${report.images.map((i) => `<li>${escape(i.image)}: <code>${escape(i.record)}</code></li>`).join("")}</ul>
${problems.length > 0 ? `<h2>Problems</h2><ul>${problems.join("")}</ul>` : ""}
<p>Made by imagewright on ${escape(report.createdAt)}.</p></body></html>
`;
}

/** The JSON form: the report without the suites' full evidence (that is in the per-image JUnit and HTML files). */
export function reportJson(report: EvaluationReport): EvaluationReport {
  return { ...report, images: report.images.map(({ suite: _suite, ...image }) => image) };
}

/** Writes evaluation-report.{md,html,json} and each image's suite as JUnit and HTML into `directory`. Returns the files. */
export async function writeReport(report: EvaluationReport, directory: string): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const files: [string, string][] = [
    ["evaluation-report.md", renderMarkdown(report)],
    ["evaluation-report.html", renderHtml(report)],
    ["evaluation-report.json", JSON.stringify(reportJson(report), null, 2) + "\n"],
  ];
  for (const image of report.images) {
    if (image.suite === undefined) continue;
    files.push([`${image.image}-tests.xml`, renderJUnit(image.suite)], [`${image.image}-tests.html`, renderSuiteHtml(image.suite)]);
  }
  for (const [name, text] of files) await writeFile(join(directory, name), text);
  return files.map(([name]) => join(directory, name));
}
