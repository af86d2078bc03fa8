// The result of a sanity-suite run and its renderings: JUnit XML for CI, a
// self-contained HTML page for people (and for the release vote).

export type StepStatus = "passed" | "failed" | "skipped";

export interface StepResult {
  /** Stable id, e.g. `produce`; JUnit test case name. */
  id: string;
  /** The step's number in the suite's documented list (1–8 for Kafka). */
  number: number;
  title: string;
  status: StepStatus;
  durationMs: number;
  /** What the step established when it passed (counts, values, timings). */
  detail?: string;
  /** Why it failed or was skipped. */
  reason?: string;
  /** Container log tail or tool output that explains a failure. */
  evidence?: string;
  /** Figures worth keeping (startup-to-ready time, messages per second …). */
  measurements?: Record<string, number>;
}

export interface SuiteReport {
  suite: string;
  image: string;
  /** The image id the engine ran, so the report names exactly what was tested. */
  imageId: string;
  run: string;
  startedAt: string;
  durationMs: number;
  passed: boolean;
  counts: { passed: number; failed: number; skipped: number };
  steps: StepResult[];
}

export function summarize(report: Omit<SuiteReport, "passed" | "counts">): SuiteReport {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const step of report.steps) counts[step.status]++;
  return { ...report, passed: counts.failed === 0 && counts.skipped === 0 && counts.passed > 0, counts };
}

function xml(text: string): string {
  // XML 1.0 cannot carry most control characters even escaped; container logs may hold them.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "?").replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export function renderJUnit(report: SuiteReport): string {
  const name = `${report.suite} ${report.image}`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xml(name)}" tests="${report.steps.length}" failures="${report.counts.failed}" skipped="${report.counts.skipped}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${xml(name)}" tests="${report.steps.length}" failures="${report.counts.failed}" errors="0" skipped="${report.counts.skipped}" time="${seconds(report.durationMs)}" timestamp="${xml(report.startedAt)}">`,
    `    <properties>`,
    `      <property name="image" value="${xml(report.image)}"/>`,
    `      <property name="imageId" value="${xml(report.imageId)}"/>`,
    `      <property name="run" value="${xml(report.run)}"/>`,
    `    </properties>`,
  ];
  for (const step of report.steps) {
    const open = `    <testcase classname="${xml(`${report.suite}.${report.image}`)}" name="${xml(`${step.number} ${step.id}: ${step.title}`)}" time="${seconds(step.durationMs)}"`;
    if (step.status === "passed") {
      lines.push(step.detail === undefined ? `${open}/>` : `${open}>`, ...(step.detail === undefined ? [] : [`      <system-out>${xml(step.detail)}</system-out>`, `    </testcase>`]));
    } else if (step.status === "skipped") {
      lines.push(`${open}>`, `      <skipped message="${xml(step.reason ?? "skipped")}"/>`, `    </testcase>`);
    } else {
      lines.push(
        `${open}>`,
        `      <failure message="${xml(step.reason ?? "failed")}" type="StepFailed">${xml(step.evidence ?? "")}</failure>`,
        `    </testcase>`,
      );
    }
  }
  lines.push(`  </testsuite>`, `</testsuites>`, "");
  return lines.join("\n");
}

function html(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderHtml(report: SuiteReport): string {
  const verdict = report.passed ? "PASSED" : "FAILED";
  const rows = report.steps
    .map((step) => {
      const explanation = step.status === "passed" ? (step.detail ?? "") : (step.reason ?? "");
      const evidence = step.evidence === undefined ? "" : `<details${step.status === "failed" ? " open" : ""}><summary>evidence</summary><pre>${html(step.evidence)}</pre></details>`;
      const figures = Object.entries(step.measurements ?? {})
        .map(([key, value]) => `${html(key)} = ${value}`)
        .join("<br>");
      return `<tr class="${step.status}"><td>${step.number}</td><td>${html(step.title)}<br><code>${html(step.id)}</code></td><td class="status">${step.status}</td><td>${seconds(step.durationMs)} s</td><td>${html(explanation)}${evidence}</td><td>${figures}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${html(`${report.suite} suite ${verdict}: ${report.image}`)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } .verdict.PASSED { color: #1a7f37; } .verdict.FAILED { color: #cf222e; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #d0d7de; padding: .4rem .6rem; vertical-align: top; text-align: left; }
tr.passed .status { color: #1a7f37; font-weight: bold; } tr.failed .status { color: #cf222e; font-weight: bold; } tr.skipped .status { color: #9a6700; }
tr.failed { background: #ffebe9; } pre { white-space: pre-wrap; font-size: .8rem; max-height: 30rem; overflow: auto; background: #f6f8fa; padding: .5rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
</style></head><body>
<h1>${html(report.suite)} sanity suite: <span class="verdict ${verdict}">${verdict}</span></h1>
<dl><dt>image</dt><dd><code>${html(report.image)}</code></dd><dt>image id</dt><dd><code>${html(report.imageId)}</code></dd>
<dt>run</dt><dd>${html(report.run)}, started ${html(report.startedAt)}, ${seconds(report.durationMs)} s</dd>
<dt>steps</dt><dd>${report.counts.passed} passed, ${report.counts.failed} failed, ${report.counts.skipped} skipped</dd></dl>
<table><thead><tr><th>#</th><th>step</th><th>status</th><th>time</th><th>result</th><th>figures</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
