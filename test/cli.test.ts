import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "./support/cli.ts";

describe("imagewright CLI", () => {
  it("shows help with the exit codes", async () => {
    const result = await runCli(["--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: imagewright/);
    assert.match(result.stdout, /Exit codes:/);
  });

  it("answers an unknown command with usage exit code 2", async () => {
    const result = await runCli(["no-such-command"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command/);
  });
});
