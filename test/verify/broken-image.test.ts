// A deliberately broken image (the good 4.1.0 image with a wrong launch script) fails
// the suite: exit code 1, the report names the step that failed and shows why (the
// broker's own last words), the steps that depend on it are skipped, and the run
// still removes everything it started.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { parseJson, runCli } from "../support/cli.ts";
import { brokenKafkaImage, kafkaImage } from "../kafka/images.ts";
import type { SuiteReport } from "../../src/verify/index.ts";

const exec = promisify(execFile);

let reports: string;
before(async () => {
  reports = await mkdtemp(join(tmpdir(), "iw-verify-broken-"));
});
after(async () => {
  await rm(reports, { recursive: true, force: true });
});

describe("a kafka image with a wrong launch script", () => {
  it("fails the suite at step 1 with the broker's error, skipping what depends on it", { timeout: 40 * 60_000 }, async () => {
    const broken = await brokenKafkaImage((await kafkaImage("4.1.0")).ref);
    const result = await runCli(
      ["--json", "test", broken, "--ready-timeout", "120", "--cluster-brokers", "1", "--cluster-controllers", "1", "--junit", join(reports, "junit.xml"), "--html", join(reports, "report.html")],
      { timeoutMs: 15 * 60_000 },
    );
    assert.equal(result.code, 1, result.stderr);
    const report = parseJson<SuiteReport>(result);
    assert.equal(report.passed, false);

    const ready = report.steps.find((step) => step.id === "ready");
    assert.equal(ready?.status, "failed");
    assert.match(ready?.reason ?? "", /container iw-verify-[0-9a-f]{8}-kafka stopped \(exited, exit code 1\) before iw-verify-[0-9a-f]{8}-kafka was ready/);
    // The evidence is the broker's own output: the config file the wrong script names.
    assert.match(ready?.evidence ?? "", /no-such\.properties/);

    for (const id of ["topic", "produce", "consume", "restart", "env-over-file", "kraft-combined", "tls-client-auth"]) {
      const step = report.steps.find((candidate) => candidate.id === id);
      assert.equal(step?.status, "skipped", `${id} should be skipped`);
      assert.match(step?.reason ?? "", /needs "(ready|topic|produce|consume)", which did not pass/);
    }
    // The cluster step needs nothing from step 1, runs, and fails on its own.
    assert.equal(report.steps.find((step) => step.id === "kraft-cluster")?.status, "failed");

    // Human output of the same run names the failed step too.
    const junit = await readFile(join(reports, "junit.xml"), "utf8");
    assert.match(junit, /failures="2"/);
    assert.match(junit, /<testcase [^>]*name="1 ready: the image comes up and is ready"[^>]*>\s*<failure message="container iw-verify-/);
    assert.match(junit, /<skipped message="needs &#34;ready&#34;, which did not pass"\/>/);
    const html = await readFile(join(reports, "report.html"), "utf8");
    assert.match(html, /<span class="verdict FAILED">FAILED<\/span>/);
    assert.match(html, /<tr class="failed"><td>1<\/td>/);
    assert.match(html, /no-such\.properties/);

    const { stdout } = await exec("docker", ["ps", "--all", "--quiet", "--filter", `label=imagewright.verify.run=${report.run}`]);
    assert.equal(stdout.trim(), "");
  });

  it("prints a table that names the failed step for people, without --json", { timeout: 20 * 60_000 }, async () => {
    const broken = await brokenKafkaImage((await kafkaImage("4.1.0")).ref);
    const result = await runCli(["test", broken, "--ready-timeout", "120", "--cluster-brokers", "1", "--cluster-controllers", "1"], { timeoutMs: 15 * 60_000 });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^1\s+ready\s+failed\s+[\d.]+ s\s+container iw-verify-\S+ stopped/m);
    assert.match(result.stdout, /^2\s+topic\s+skipped/m);
    assert.match(result.stdout, /^FAILED: imagewright-test\/kafka-broken:/m);
    assert.match(result.stderr, /✗ 1 ready failed/);
  });
});
