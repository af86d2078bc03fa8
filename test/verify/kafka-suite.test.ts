// Both Kafka versions of the example catalog, built from the fixture release tarball
// URL, pass the whole sanity suite through `imagewright test` on the real Docker
// Engine, and the run leaves its reports behind and nothing else.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { parseJson, runCli } from "../support/cli.ts";
import { KAFKA_FIXTURE_VERSIONS } from "../support/kafka-fixture.ts";
import { kafkaImage } from "../kafka/images.ts";
import type { SuiteReport } from "../../src/verify/index.ts";

const exec = promisify(execFile);
const SUITE_TIMEOUT_MS = 25 * 60_000;
const EXPECTED_STEPS = ["ready", "topic", "produce", "consume", "restart", "env-over-file", "kraft-combined", "tls-client-auth", "kraft-cluster"];

let reports: string;
before(async () => {
  reports = await mkdtemp(join(tmpdir(), "iw-verify-reports-"));
});
after(async () => {
  await rm(reports, { recursive: true, force: true });
});

for (const version of KAFKA_FIXTURE_VERSIONS) {
  describe(`kafka ${version} image from the fixture tarball URL`, () => {
    it("passes every step of the suite, with JUnit, HTML and JSON reports", { timeout: SUITE_TIMEOUT_MS + 20 * 60_000 }, async () => {
      const { ref } = await kafkaImage(version);
      const dir = join(reports, version);
      const result = await runCli(["--json", "test", ref, "--messages", "500", "--report-dir", dir], { timeoutMs: SUITE_TIMEOUT_MS });
      const report = parseJson<SuiteReport & { files: Record<string, string> }>(result);
      const failed = report.steps.filter((step) => step.status !== "passed");
      assert.deepEqual(failed, [], `steps that did not pass:\n${JSON.stringify(failed, null, 2)}\nstderr:\n${result.stderr}`);
      assert.equal(result.code, 0);
      assert.equal(report.passed, true);
      assert.deepEqual(report.steps.map((step) => step.id), EXPECTED_STEPS);
      assert.deepEqual(report.steps.map((step) => step.number), [1, 2, 3, 4, 5, 6, 7, 8, 7]);
      assert.match(report.imageId, /^sha256:[0-9a-f]{64}$/);

      // What the steps established, in their own words and figures.
      const byId = new Map(report.steps.map((step) => [step.id, step]));
      assert.ok((byId.get("ready")?.measurements?.["startupToReadyMs"] ?? 0) > 0);
      assert.match(byId.get("consume")?.detail ?? "", /500 records read back intact and in order on each of 3 partitions/);
      assert.match(byId.get("restart")?.detail ?? "", /storage formatted once/);
      assert.match(byId.get("env-over-file")?.detail ?? "", /log\.retention\.hours=42 \(env over file's 1\)/);
      assert.match(byId.get("kraft-cluster")?.detail ?? "", /3 brokers registered with a 3-controller quorum/);
      assert.match(byId.get("tls-client-auth")?.detail ?? "", /a client without a certificate was refused/);

      const junit = await readFile(join(dir, "junit.xml"), "utf8");
      assert.match(junit, /<testsuite name="kafka [^"]+" tests="9" failures="0" errors="0" skipped="0"/);
      assert.equal(junit.match(/<testcase /g)?.length, 9);
      const html = await readFile(join(dir, "report.html"), "utf8");
      assert.match(html, /<span class="verdict PASSED">PASSED<\/span>/);
      assert.equal((JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as SuiteReport).steps.length, 9);

      // The run removed its containers and networks: nothing carries its label any more.
      const label = `imagewright.verify.run=${report.run}`;
      const { stdout: containers } = await exec("docker", ["ps", "--all", "--quiet", "--filter", `label=${label}`]);
      const { stdout: networks } = await exec("docker", ["network", "ls", "--quiet", "--filter", `label=${label}`]);
      assert.equal(containers.trim(), "");
      assert.equal(networks.trim(), "");
    });
  });
}
