// The imagewright command line: a thin layer that parses flags and calls the
// library. Each concern registers its commands from ./commands/<concern>.ts.

import { Command, CommanderError } from "commander";
import { EXIT_CODES, isImagewrightError } from "../errors/index.ts";

interface CommandModule {
  register(program: Command): void;
}

/**
 * The command modules, and the top-level command names each registers. Only the
 * modules of the command being run are loaded: a short command should not pay
 * for loading zod schemas, undici and the scanners it never uses.
 * `tag` precedes the registry commands, which attach `tag <ref> <new-tag>` to it,
 * so it is loaded with each of them.
 */
const CONCERNS: readonly { names: readonly string[]; load: () => Promise<CommandModule> }[] = [
  { names: ["tag", "ls", "inspect", "digest", "copy"], load: () => import("./commands/tag.ts") },
  { names: ["catalog"], load: () => import("./commands/catalog.ts") },
  { names: ["plan"], load: () => import("./commands/plan.ts") },
  { names: ["build", "assemble"], load: () => import("./commands/build.ts") },
  { names: ["test"], load: () => import("./commands/verify.ts") },
  { names: ["scan"], load: () => import("./commands/scan.ts") },
  { names: ["release"], load: () => import("./commands/release.ts") },
  { names: ["ls", "inspect", "digest", "copy", "tag"], load: () => import("./commands/registry.ts") },
  { names: ["compat"], load: () => import("./commands/compat.ts") },
];

/** The command word in argv (after `help`, too), or undefined when there is none. */
function commandWord(argv: readonly string[]): string | undefined {
  const words = argv.filter((arg) => !arg.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

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

/** The program with the commands `argv` needs: all of them when it names none or an unknown one. */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("imagewright")
    .description("Build, version, test, scan and release product container images.")
    .option("--json", "answer with one JSON document on stdout")
    .option("-q, --quiet", "no progress output on stderr")
    .showHelpAfterError()
    .addHelpText("after", EXIT_CODE_HELP)
    .exitOverride();
  const word = commandWord(argv);
  const needed = CONCERNS.filter((concern) => word !== undefined && concern.names.includes(word));
  const modules = await Promise.all((needed.length > 0 ? needed : CONCERNS).map((concern) => concern.load()));
  for (const module of modules) module.register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes("--json");
  try {
    const program = await createProgram(argv);
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
