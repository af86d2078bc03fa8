// The imagewright command line: a thin layer that parses flags and calls the
// library. Each concern registers its commands from ./commands/<concern>.ts.

import { Command, CommanderError } from "commander";
import { EXIT_CODES, isImagewrightError } from "../errors/index.ts";
import * as buildCommands from "./commands/build.ts";
import * as catalogCommands from "./commands/catalog.ts";
import * as compatCommands from "./commands/compat.ts";
import * as planCommands from "./commands/plan.ts";
import * as registryCommands from "./commands/registry.ts";
import * as releaseCommands from "./commands/release.ts";
import * as scanCommands from "./commands/scan.ts";
import * as tagCommands from "./commands/tag.ts";
import * as verifyCommands from "./commands/verify.ts";

const EXIT_CODE_HELP = `
Exit codes:
  0   success
  1   a check ran and failed (tests, scan gate, refused compatibility)
  2   usage error (unknown command or flag, missing argument)
  3   invalid input (malformed tag, catalog, manifest, reference, ConfigMap)
  4   not found (image, tag, version, file)
  5   conflict (would overwrite a released tag, dependency cycle)
  6   unavailable (registry unreachable, tool or scanner database missing)
  70  internal error (a bug: please report it)`;

export function createProgram(): Command {
  const program = new Command("imagewright")
    .description("Build, version, test, scan and release product container images.")
    .option("--json", "answer with one JSON document on stdout")
    .option("-q, --quiet", "no progress output on stderr")
    .showHelpAfterError()
    .addHelpText("after", EXIT_CODE_HELP)
    .exitOverride();
  // `tag` comes before `registry`: the registry commands attach `tag <ref> <new-tag>` to it.
  for (const concern of [
    tagCommands,
    catalogCommands,
    planCommands,
    buildCommands,
    verifyCommands,
    scanCommands,
    releaseCommands,
    registryCommands,
    compatCommands,
  ]) {
    concern.register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  const json = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (isImagewrightError(error)) {
      if (json) {
        process.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + "\n");
      } else {
        const lines = [`imagewright: ${error.message}`];
        if (error.input !== undefined) lines.push(`  input: ${error.input}`);
        if (error.place !== undefined) lines.push(`  at:    ${error.place}`);
        if (error.hint !== undefined) lines.push(`  hint:  ${error.hint}`);
        process.stderr.write(lines.join("\n") + "\n");
      }
      return error.exitCode;
    }
    process.stderr.write(`imagewright: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_CODES.internal;
  }
}
