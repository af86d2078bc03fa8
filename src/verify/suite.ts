// Runs a sanity suite's steps in order against one image: each step timed, a step
// whose prerequisite did not pass is skipped (with the reason), and everything the
// run created on the engine is removed at the end, whatever happened.

import { ImagewrightError } from "../errors/index.ts";
import { DockerRun, docker, lastLines } from "./docker.ts";
import { summarize, type StepResult, type SuiteReport } from "./report.ts";

/** A failed check with the evidence (logs, tool output) that shows why. */
export class StepFailure extends Error {
  readonly evidence: string | undefined;
  constructor(message: string, evidence?: string) {
    super(message);
    this.name = "StepFailure";
    this.evidence = evidence;
  }
}

export interface StepContext {
  /** Keeps a figure for the report (e.g. `startupToReadyMs`). */
  measure(name: string, value: number): void;
}

export interface SuiteStep {
  id: string;
  number: number;
  title: string;
  /** Steps that must have passed first; otherwise this one is skipped. */
  needs?: readonly string[];
  /** Does the step; returns what it established, or throws StepFailure / any Error. */
  run(context: StepContext): Promise<string>;
  /** Extra evidence when the step failed (typically a container's log tail). */
  explain?(): Promise<string>;
}

export interface SuiteDefinition<Options> {
  name: string;
  description: string;
  steps(run: DockerRun, image: string, options: Options): SuiteStep[];
}

export interface SuiteRunOptions {
  /** Runs only these step ids (in the suite's order); all when absent. */
  only?: readonly string[];
  onStepStart?: (step: SuiteStep) => void;
  onStepEnd?: (result: StepResult) => void;
}

/** The engine's id of the image, pulling it first when the engine does not have it. */
export async function resolveImage(image: string): Promise<string> {
  const inspect = async (): Promise<string | undefined> => {
    const result = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
    return result.code === 0 ? result.stdout.trim() : undefined;
  };
  const local = await inspect();
  if (local !== undefined) return local;
  const info = await docker(["info", "--format", "{{.ServerVersion}}"]);
  if (info.code !== 0) {
    throw new ImagewrightError("unavailable", "the Docker Engine does not answer", { input: "docker info", hint: "run stack/up.sh", cause: new Error(info.stderr) });
  }
  const pull = await docker(["pull", "--quiet", image], { timeoutMs: 600_000 });
  const pulled = pull.code === 0 ? await inspect() : undefined;
  if (pulled === undefined) {
    throw new ImagewrightError("not-found", `image ${image} is neither on the Docker Engine nor pullable`, {
      input: `image reference "${image}"`,
      hint: lastLines(pull.stderr, 3) || undefined,
    });
  }
  return pulled;
}

export async function runSuite<Options>(
  suite: SuiteDefinition<Options>,
  image: string,
  options: Options,
  hooks: SuiteRunOptions = {},
): Promise<SuiteReport> {
  const run = new DockerRun();
  const known = suite.steps(run, image, options).map((step) => step.id);
  const unknown = (hooks.only ?? []).filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new ImagewrightError("usage", `the ${suite.name} suite has no step ${unknown.map((id) => `"${id}"`).join(", ")}`, {
      input: `--steps ${(hooks.only ?? []).join(",")}`,
      hint: `steps: ${known.join(", ")}`,
    });
  }
  const imageId = await resolveImage(image);
  const startedAt = new Date();
  const results: StepResult[] = [];
  try {
    const steps = suite.steps(run, image, options).filter((step) => hooks.only === undefined || hooks.only.includes(step.id));
    const status = new Map<string, StepResult["status"]>();
    for (const step of steps) {
      hooks.onStepStart?.(step);
      const unmet = (step.needs ?? []).filter((need) => status.get(need) !== "passed");
      const base = { id: step.id, number: step.number, title: step.title };
      let result: StepResult;
      if (unmet.length > 0) {
        result = { ...base, status: "skipped", durationMs: 0, reason: `needs ${unmet.map((id) => `"${id}"`).join(", ")}, which did not pass` };
      } else {
        const measurements: Record<string, number> = {};
        const began = performance.now();
        try {
          const detail = await step.run({ measure: (name, value) => (measurements[name] = Math.round(value)) });
          result = { ...base, status: "passed", durationMs: Math.round(performance.now() - began), detail };
        } catch (error) {
          const durationMs = Math.round(performance.now() - began);
          const reason = error instanceof Error ? error.message : String(error);
          const evidence = [error instanceof StepFailure ? error.evidence : undefined, await step.explain?.().catch(() => undefined)]
            .filter((part): part is string => part !== undefined && part.length > 0)
            .join("\n\n");
          result = { ...base, status: "failed", durationMs, reason, ...(evidence.length > 0 ? { evidence } : {}) };
        }
        if (Object.keys(measurements).length > 0) result.measurements = measurements;
      }
      status.set(step.id, result.status);
      results.push(result);
      hooks.onStepEnd?.(result);
    }
  } finally {
    await run.close();
  }
  return summarize({
    suite: suite.name,
    image,
    imageId,
    run: run.id,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    steps: results,
  });
}
