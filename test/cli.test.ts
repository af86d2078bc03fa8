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

  it("lists every command in the top-level help, though a command loads only its own module", async () => {
    const result = await runCli(["--help"]);
    for (const name of ["tag", "catalog", "plan", "build", "assemble", "test", "scan", "release", "ls", "inspect", "digest", "copy", "compat"]) {
      assert.match(result.stdout, new RegExp(`^  ${name} `, "m"), `help lists ${name}`);
    }
    const tagHelp = await runCli(["tag", "--help"]);
    assert.equal(tagHelp.code, 0);
    assert.match(tagHelp.stdout, /parse/);
    assert.match(tagHelp.stdout, /new-tag/, "the registry's retag action is attached to tag");
  });

  it("answers an unknown command with usage exit code 2", async () => {
    const result = await runCli(["no-such-command"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command/);
  });
});
