// Report renderings: JUnit XML that stays well-formed whatever a container logged
// (markup, quotes, ANSI escapes, NUL bytes), HTML that shows text as text, and the
// verdict: every selected step must have passed.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderHtml, renderJUnit, summarize, type StepResult } from "../../src/verify/index.ts";

const hostile = 'bad \u001b[31mred\u001b[0m "quoted" <tag> & ]]> \u0000nul';

function report(steps: StepResult[]) {
  return summarize({ suite: "kafka", image: 'repo/kafka:4.1.0"<x>', imageId: "sha256:" + "a".repeat(64), run: "0123abcd", startedAt: "2026-11-21T06:00:00.000Z", durationMs: 4321, steps });
}

const failed: StepResult = { id: "ready", number: 1, title: "the image <comes> up", status: "failed", durationMs: 1500, reason: hostile, evidence: `log line\n${hostile}` };
const skipped: StepResult = { id: "topic", number: 2, title: "a topic", status: "skipped", durationMs: 0, reason: 'needs "ready", which did not pass' };
const passed: StepResult = { id: "produce", number: 3, title: "produce", status: "passed", durationMs: 250, detail: "1000 messages & more" };

describe("renderJUnit", () => {
  const xml = renderJUnit(report([failed, skipped, passed]));

  it("counts tests, failures and skips, with times in seconds", () => {
    assert.match(xml, /<testsuite name="kafka repo\/kafka:4\.1\.0&#34;&#60;x&#62;" tests="3" failures="1" errors="0" skipped="1" time="4\.321"/);
    assert.match(xml, /name="1 ready: the image &#60;comes&#62; up" time="1\.500">/);
  });

  it("keeps every hostile character out of the markup", () => {
    // XML 1.0 forbids these control characters even as references.
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    assert.match(xml, /<failure message="bad \?\[31mred\?\[0m &#34;quoted&#34; &#60;tag&#62; &#38; \]\]&#62; \?nul" type="StepFailed">log line\n/);
    // Outside tags, no raw < or & survives: every < starts one of our elements, every & an entity.
    for (const match of xml.matchAll(/<(\/?)([A-Za-z?!]\S*)/g)) assert.match(match[2]!, /^(\?xml|testsuites|testsuite|properties|property|testcase|failure|skipped|system-out)\b/);
    assert.doesNotMatch(xml, /&(?!#\d+;)/);
  });

  it("names the reason of a skip and the detail of a pass", () => {
    assert.match(xml, /<skipped message="needs &#34;ready&#34;, which did not pass"\/>/);
    assert.match(xml, /<system-out>1000 messages &#38; more<\/system-out>/);
  });
});

describe("renderHtml", () => {
  it("shows the verdict, the failed step open with its evidence, and escapes everything", () => {
    const html = renderHtml(report([failed, skipped, passed]));
    assert.match(html, /<span class="verdict FAILED">FAILED<\/span>/);
    assert.match(html, /<tr class="failed"><td>1<\/td>/);
    assert.match(html, /<details open><summary>evidence<\/summary><pre>log line\n/);
    assert.doesNotMatch(html, /<tag>/);
    assert.match(html, /&#60;tag&#62;/);
  });
});

describe("summarize", () => {
  it("passes only when every step passed", () => {
    assert.equal(report([passed]).passed, true);
    assert.equal(report([passed, skipped]).passed, false);
    assert.equal(report([failed]).passed, false);
    assert.equal(report([]).passed, false);
    assert.deepEqual(report([failed, skipped, passed]).counts, { passed: 1, failed: 1, skipped: 1 });
  });
});
