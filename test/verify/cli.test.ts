// `imagewright test` refuses bad input before touching the engine, with the documented
// exit codes, and reports an image that does not exist as not found.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseJson, runCli } from "../support/cli.ts";
import { freePort } from "../../src/verify/docker.ts";

interface ErrorAnswer {
  error: { kind: string; message: string; input?: string; place?: string; exitCode: number };
}

describe("imagewright test: bad input", () => {
  it("refuses a malformed image reference, naming the column (exit 3)", async () => {
    const result = await runCli(["--json", "test", "kafka:4.1.0:extra"]);
    assert.equal(result.code, 3);
    const { error } = parseJson<ErrorAnswer>(result);
    assert.equal(error.kind, "invalid-input");
    assert.match(error.input ?? "", /kafka:4\.1\.0:extra/);
    assert.match(error.place ?? "", /^column \d+$/);
  });

  it("refuses an unknown suite (exit 3)", async () => {
    const result = await runCli(["--json", "test", "kafka:4.1.0", "--suite", "zookeeper"]);
    assert.equal(result.code, 3);
    const { error } = parseJson<ErrorAnswer>(result);
    assert.match(error.message, /unknown test suite "zookeeper"/);
    assert.equal(error.input, "--suite zookeeper");
  });

  for (const [flag, value] of [["--messages", "0"], ["--messages", "ten"], ["--cluster-brokers", "12"], ["--ready-timeout", "-5"]] as const) {
    it(`refuses ${flag} ${value} (exit 2)`, async () => {
      const result = await runCli(["--json", "test", "kafka:4.1.0", flag, value]);
      assert.equal(result.code, 2);
      assert.match(parseJson<ErrorAnswer>(result).error.message, new RegExp(`${flag} must be a whole number`));
    });
  }

  it("reports an image that is neither local nor pullable as not found (exit 4)", async () => {
    // A registry address nobody listens on: the pull fails at once.
    const port = await freePort();
    const ref = `127.0.0.1:${port}/nothing/kafka:0.0.0`;
    const result = await runCli(["--json", "test", ref]);
    assert.equal(result.code, 4, result.stderr);
    const { error } = parseJson<ErrorAnswer>(result);
    assert.equal(error.kind, "not-found");
    assert.equal(error.input, `image reference "${ref}"`);
  });
});
