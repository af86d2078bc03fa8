// `imagewright plan`: what a trigger would build, in build order. The trigger flags are
// exported so that `imagewright build` selects targets with exactly the same words.

import { relative } from "node:path";
import type { Command } from "commander";
import { changedFilesSince, planBuild } from "../../build/index.ts";
import type { BuildPlan, PlanTrigger } from "../../build/index.ts";
import type { Catalog } from "../../catalog/index.ts";
import { ImagewrightError } from "../../errors/index.ts";
import { answer, table } from "../output.ts";
import { CATALOG_OPTION_HELP, catalogFromOptions } from "./catalog.ts";

export interface TriggerOptions {
  catalog?: string;
  gitTag?: string;
  select?: string[];
  all?: boolean;
  changedSince?: string;
}

export const TRIGGER_HELP = `
Triggers (exactly one):
  --git-tag kafka4.1.0_stackable0.1.0   exactly that image version, plus the local images it needs
  --select kafka=3.9.1,4.1.0            those versions (repeatable; --select kafka = all its versions)
  --all                                 every supported product version
  --changed-since <git-rev>             images whose folder changed since <git-rev>, and what depends on them`;

export function addTriggerOptions(command: Command): Command {
  return command
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .option("--git-tag <tag>", "build exactly the image version this git tag names")
    .option("--select <image[=versions]>", "image and product versions, e.g. kafka=3.9.1,4.1.0 (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--all", "every supported product version")
    .option("--changed-since <git-rev>", "images with files changed since this git revision, and their dependents");
}

/** The one trigger the options name; a usage error when there are none or several. */
export async function triggerFromOptions(catalog: Catalog, options: TriggerOptions): Promise<PlanTrigger> {
  const given = [
    options.gitTag !== undefined && "--git-tag",
    options.select !== undefined && "--select",
    options.all === true && "--all",
    options.changedSince !== undefined && "--changed-since",
  ].filter((flag) => flag !== false);
  if (given.length !== 1) {
    throw new ImagewrightError("usage", given.length === 0 ? "say what to plan" : `give one trigger, not ${given.join(" and ")}`, {
      input: given.length === 0 ? "command line" : given.join(" "),
      hint: "one of --git-tag <tag>, --select <image[=versions]>, --all, --changed-since <git-rev>",
    });
  }
  if (options.gitTag !== undefined) return { kind: "git-tag", gitTag: options.gitTag };
  if (options.select !== undefined) return { kind: "selection", selections: options.select };
  if (options.changedSince !== undefined) {
    return { kind: "changed", since: options.changedSince, changedFiles: await changedFilesSince(catalog, options.changedSince) };
  }
  return { kind: "all" };
}

function humanPlan(plan: BuildPlan & { catalog: string }): string {
  if (plan.targets.length === 0) return `nothing to build for ${plan.trigger}`;
  const lines = [
    `${plan.targets.length} target${plan.targets.length === 1 ? "" : "s"} for ${plan.trigger}, in build order:`,
    table(plan.targets.map((t, index) => ({ ...t, position: index + 1 })), [
      { header: "#", value: (t) => String(t.position), align: "right" },
      { header: "TARGET", value: (t) => t.id },
      { header: "WHY", value: (t) => t.reason },
      { header: "TAG", value: (t) => t.tags.join(", ") },
      { header: "DEPENDS ON", value: (t) => (t.dependencies.length === 0 ? "-" : t.dependencies.join(", ")) },
      { header: "PLATFORMS", value: (t) => t.platforms.join(",") },
      { header: "DOCKERFILE", value: (t) => relative(plan.catalog, t.dockerfile) },
    ]),
  ];
  return lines.join("\n");
}

export function register(program: Command): void {
  addTriggerOptions(
    program
      .command("plan")
      .description("show what a trigger builds: targets in dependency order with tags, build args and platforms"),
  )
    .addHelpText(
      "after",
      `${TRIGGER_HELP}

Examples:
  imagewright plan --catalog examples/catalog --git-tag kafka4.1.0_stackable0.1.0
  imagewright plan --catalog examples/catalog --select kafka=3.9.1 --select kafka-native
  imagewright plan --catalog examples/catalog --all --json
  imagewright plan --catalog examples/catalog --changed-since origin/main

Exit codes: 3 malformed git tag or selection, 4 unknown image or version,
5 the git tag's image version differs from the catalog's, or a dependency cycle.`,
    )
    .action(async (options: TriggerOptions, command: Command) => {
      const catalog = catalogFromOptions(options);
      const trigger = await triggerFromOptions(catalog, options);
      const plan = planBuild(catalog, trigger);
      answer(command, { catalog: catalog.root, ...plan }, humanPlan);
    });
}
