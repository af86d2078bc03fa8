// The BuildKit backend: a build plan becomes a `docker buildx bake` JSON file
// (one target per image version, local dependencies as `target:` contexts), and
// running it reports each target's digest from buildx's metadata file.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImagewrightError } from "../errors/index.ts";
import { buildArgPrefix, type BuildPlan, type PlanTarget } from "./plan.ts";

/** Where bake puts what it builds. */
export type BakeOutput =
  /** Push every tag to its registry. */
  | { kind: "push" }
  /** One OCI layout directory per target under `directory` (imagewright then copies them where asked). */
  | { kind: "oci"; directory: string }
  /** Build only; results stay in the builder's cache. */
  | { kind: "cacheonly" };

/**
 * Build cache: `registry` keeps a cache image beside each image (`<repository>:buildcache`,
 * mode=max; needs a docker-container or remote builder), `inline` embeds cache metadata
 * in the pushed image (any builder).
 */
export type BakeCache = { kind: "registry"; tag?: string } | { kind: "inline" };

export interface BakeOptions {
  /** `org.opencontainers.image.vendor`. */
  vendor: string;
  /** Seconds; `created` and BuildKit's SOURCE_DATE_EPOCH build argument. */
  sourceDateEpoch: number;
  /** Commit the images are built from (`org.opencontainers.image.revision`). */
  revision?: string;
  /** Where the image's source lives (`org.opencontainers.image.source`). */
  source?: string;
  /** SPDX expression (`org.opencontainers.image.licenses`). */
  licenses?: string;
  /** The user's own build arguments; they win over the catalog's and imagewright's. */
  buildArgs?: Record<string, string>;
  /** Platforms for every target instead of each target's own. */
  platforms?: string[];
  output: BakeOutput;
  cache?: BakeCache;
  /** Target ids not to build (dependencies already in the registry at their tag): FROM pulls them instead. */
  skip?: ReadonlySet<string>;
}

export interface BakeTarget {
  inherits?: string[];
  context?: string;
  dockerfile?: string;
  args?: Record<string, string>;
  contexts?: Record<string, string>;
  tags?: string[];
  labels?: Record<string, string>;
  annotations?: string[];
  platforms?: string[];
  output?: string[];
  "cache-from"?: string[];
  "cache-to"?: string[];
}

export interface BakeFile {
  group: Record<string, { targets: string[] }>;
  target: Record<string, BakeTarget>;
}

/** What the generated file holds for one plan target. */
export interface BakeEntry {
  id: string;
  /** The bake target's name (ids with dots are not valid bake names). */
  name: string;
  target: PlanTarget;
  /** For `oci` output: the layout directory bake writes. */
  ociDirectory?: string;
}

export interface GeneratedBake {
  file: BakeFile;
  entries: BakeEntry[];
  /** Plan targets left out because `skip` named them. */
  skipped: string[];
}

export const COMMON_TARGET = "_common";
const TITLE = "org.opencontainers.image.title";
const VERSION = "org.opencontainers.image.version";
const NAME = /^[A-Za-z0-9_-]+$/;

/** Bake allows `[A-Za-z0-9_-]` in target names: `kafka-4.1.0` → `kafka-4_1_0`. */
export function bakeTargetName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_");
}

function iso(sourceDateEpoch: number): string {
  return new Date(sourceDateEpoch * 1000).toISOString().replace(".000Z", "Z");
}

function repositoryOfReference(reference: string): string {
  const at = reference.indexOf("@");
  const plain = at >= 0 ? reference.slice(0, at) : reference;
  const colon = plain.lastIndexOf(":");
  return colon > plain.lastIndexOf("/") ? plain.slice(0, colon) : plain;
}

/** Generates the bake file for `plan`; deterministic for the same plan and options. */
export function generateBake(plan: BuildPlan, options: BakeOptions): GeneratedBake {
  const skip = options.skip ?? new Set<string>();
  const byId = new Map(plan.targets.map((target) => [target.id, target]));
  const names = new Map<string, string>();
  const entries: BakeEntry[] = [];
  const skipped: string[] = [];
  for (const target of plan.targets) {
    if (skip.has(target.id)) {
      skipped.push(target.id);
      continue;
    }
    const name = bakeTargetName(target.id);
    const clash = names.get(name);
    if (clash !== undefined || name === COMMON_TARGET || !NAME.test(name)) {
      throw new ImagewrightError("conflict", `targets ${clash ?? COMMON_TARGET} and ${target.id} both become bake target ${name}`, {
        input: `plan target ${target.id}`,
        hint: "product versions that differ only in . and _ cannot share one bake file",
      });
    }
    names.set(name, target.id);
    entries.push({
      id: target.id,
      name,
      target,
      ...(options.output.kind === "oci" ? { ociDirectory: path.join(options.output.directory, name) } : {}),
    });
  }

  const sharedLabels = sortedRecord(commonMetadata(options));
  // Annotations come out sorted without a sort per target (10,000 of them in the benchmark):
  // the shared keys all sort before "version", and title goes where it belongs among them.
  const shared = Object.entries(sharedLabels);
  const annotationCache = new Map<string, { before: string[]; after: string[] }>();
  const sharedAnnotations = (level: string): { before: string[]; after: string[] } => {
    let fixed = annotationCache.get(level);
    if (fixed === undefined) {
      const render = ([key, value]: [string, string]): string => `${level}:${key}=${value}`;
      fixed = { before: shared.filter(([key]) => key < TITLE).map(render), after: shared.filter(([key]) => key > TITLE).map(render) };
      annotationCache.set(level, fixed);
    }
    return fixed;
  };
  const targetNames = new Map(entries.map((entry) => [entry.id, entry.name]));
  const argPrefixes = new Map<string, string>();
  const common: BakeTarget = {
    args: { SOURCE_DATE_EPOCH: String(options.sourceDateEpoch) },
    labels: sharedLabels,
  };
  if (options.platforms !== undefined) common.platforms = [...options.platforms];
  if (options.output.kind === "push") common.output = ["type=registry"];
  if (options.output.kind === "cacheonly") common.output = ["type=cacheonly"];

  const targets: Record<string, BakeTarget> = { [COMMON_TARGET]: common };
  for (const entry of entries) {
    const target = entry.target;
    const platforms = options.platforms ?? target.platforms;
    const version = target.tags[0] ?? `${target.productVersion}-${target.imageVersion}`;
    const level = platforms.length > 1 ? "index,manifest" : "manifest";
    const fixed = sharedAnnotations(level);
    const annotations = [...fixed.before, `${level}:${TITLE}=${target.image}`, ...fixed.after, `${level}:${VERSION}=${version}`];
    const contexts: Record<string, string> = {};
    for (const dependencyId of target.dependencies) {
      const dependency = byId.get(dependencyId);
      // A dependency left out (already in the registry) is pulled by its reference, as FROM says.
      if (dependency === undefined || skip.has(dependencyId)) continue;
      // The key must be what FROM expands to: the <DEP>_IMAGE argument the plan gave this target
      // (for a release candidate's dependent that is the release reference, not the RC's).
      const value = `target:${targetNames.get(dependencyId) ?? bakeTargetName(dependencyId)}`;
      let prefix = argPrefixes.get(dependency.image);
      if (prefix === undefined) {
        prefix = `${buildArgPrefix(dependency.image)}_IMAGE`;
        argPrefixes.set(dependency.image, prefix);
      }
      const fromArgument = target.buildArgs[prefix];
      if (fromArgument !== undefined) contexts[fromArgument] = value;
      const reference = dependency.references[0];
      if (reference !== undefined && reference !== fromArgument) contexts[reference] = value;
    }
    const bake: BakeTarget = {
      inherits: [COMMON_TARGET],
      context: target.context,
      dockerfile: path.relative(target.context, target.dockerfile),
      // The plan's order (catalog's own, then imagewright's), deterministic for a given catalog; the user's last.
      args: options.buildArgs === undefined ? { ...target.buildArgs } : { ...target.buildArgs, ...options.buildArgs },
      tags: [...target.references],
      labels: { [TITLE]: target.image, [VERSION]: version },
      // Annotations go on the index too when several platforms make one.
      annotations,
      platforms: [...platforms],
    };
    const contextCount = Object.keys(contexts).length;
    if (contextCount > 0) bake.contexts = contextCount === 1 ? contexts : sortedRecord(contexts);
    if (entry.ociDirectory !== undefined) bake.output = [`type=oci,dest=${entry.ociDirectory},tar=false`];
    const repository = repositoryOfReference(target.references[0] ?? "");
    if (options.cache?.kind === "registry") {
      const cacheRef = `${repository}:${options.cache.tag ?? "buildcache"}`;
      bake["cache-from"] = [`type=registry,ref=${cacheRef}`];
      bake["cache-to"] = [`type=registry,ref=${cacheRef},mode=max`];
    } else if (options.cache?.kind === "inline") {
      bake["cache-from"] = [`type=registry,ref=${target.references[0] ?? repository}`];
      bake["cache-to"] = ["type=inline"];
    }
    targets[entry.name] = bake;
  }
  return { file: { group: { default: { targets: entries.map((entry) => entry.name) } }, target: targets }, entries, skipped };
}

function commonMetadata(options: BakeOptions): Record<string, string> {
  const labels: Record<string, string> = {
    "org.opencontainers.image.created": iso(options.sourceDateEpoch),
    "org.opencontainers.image.vendor": options.vendor,
  };
  if (options.revision !== undefined) labels["org.opencontainers.image.revision"] = options.revision;
  if (options.source !== undefined) labels["org.opencontainers.image.source"] = options.source;
  if (options.licenses !== undefined) labels["org.opencontainers.image.licenses"] = options.licenses;
  return labels;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key]!;
  return sorted;
}

/** What buildx's metadata file says about one target. */
export interface BakeTargetResult {
  name: string;
  digest?: string;
  mediaType?: string;
  size?: number;
  imageNames: string[];
  /**
   * Seconds of BuildKit steps attributed to this target in buildx's progress. Steps of
   * different targets run in parallel, so these overlap and need not add up to the wall time.
   */
  stepSeconds: number;
}

/**
 * Attributes BuildKit's plain progress to bake targets: bake prefixes a step with its
 * target (`#12 [kafka-4_1_0 2/5] RUN …`), and `#12 DONE 3.4s` ends it.
 */
export class StepTimes {
  readonly #targets: ReadonlySet<string>;
  readonly #stepTarget = new Map<string, string>();
  readonly seconds = new Map<string, number>();

  constructor(targets: readonly string[]) {
    this.#targets = new Set(targets);
  }

  line(text: string): void {
    const named = /^#(\d+) \[([A-Za-z0-9_-]+)[\] ]/.exec(text);
    if (named !== null && this.#targets.has(named[2]!)) {
      this.#stepTarget.set(named[1]!, named[2]!);
      return;
    }
    const done = /^#(\d+) DONE (\d+(?:\.\d+)?)s$/.exec(text);
    if (done === null) return;
    // A bake of one target does not prefix its steps.
    const target = this.#stepTarget.get(done[1]!) ?? (this.#targets.size === 1 ? [...this.#targets][0] : undefined);
    if (target !== undefined) this.seconds.set(target, (this.seconds.get(target) ?? 0) + Number(done[2]));
  }
}

export interface RunBakeOptions {
  /** Program and leading arguments that reach buildx: default `docker buildx`, or `$IMAGEWRIGHT_BUILDX` (a path to a standalone buildx). */
  buildx?: string[];
  builder?: string;
  /** Each line buildx prints (its plain progress), for the caller's progress output. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** The command that runs buildx, from the option, the environment, or `docker buildx`. */
export function buildxCommand(options: RunBakeOptions = {}): string[] {
  if (options.buildx !== undefined && options.buildx.length > 0) return options.buildx;
  const fromEnv = (options.env ?? process.env).IMAGEWRIGHT_BUILDX;
  if (fromEnv !== undefined && fromEnv !== "") return [fromEnv];
  return ["docker", "buildx"];
}

/** Runs `buildx bake` on the generated file; returns each target's digest from `--metadata-file`. */
export async function runBake(generated: GeneratedBake, options: RunBakeOptions = {}): Promise<BakeTargetResult[]> {
  if (generated.entries.length === 0) return [];
  const work = await mkdtemp(path.join(tmpdir(), "imagewright-bake-"));
  try {
    const bakeFile = path.join(work, "docker-bake.json");
    const metadataFile = path.join(work, "metadata.json");
    await writeFile(bakeFile, JSON.stringify(generated.file, null, 2));
    const [program, ...leading] = buildxCommand(options);
    const args = [...leading, "bake", "--file", bakeFile, "--metadata-file", metadataFile, "--progress", "plain"];
    if (options.builder !== undefined) args.push("--builder", options.builder);
    // Bake only reads and writes inside its working directory unless allowed: the contexts
    // live in the catalog and OCI outputs where the user asked, never next to the temp bake file.
    for (const context of new Set(generated.entries.map((entry) => entry.target.context))) args.push(`--allow=fs.read=${context}`);
    const outputs = new Set(generated.entries.flatMap((entry) => (entry.ociDirectory === undefined ? [] : [path.dirname(entry.ociDirectory)])));
    for (const output of outputs) args.push(`--allow=fs.write=${output}`);
    args.push(...generated.entries.map((entry) => entry.name));
    const steps = new StepTimes(generated.entries.map((entry) => entry.name));
    const tail = await runStreaming(program!, args, {
      ...options,
      onLine: (line) => {
        steps.line(line);
        options.onLine?.(line);
      },
    });
    if (tail.code !== 0) {
      const error = lastError(tail.lines);
      // Engines before BuildKit 0.10 (Debian's Docker 20.10) cannot take target: contexts.
      const tooOld = /unsupported frontend capability moby\.buildkit\.frontend\.contexts/.test(error);
      throw new ImagewrightError(tooOld ? "unavailable" : "failed", `buildx bake failed (exit ${tail.code}): ${error}`, {
        input: `bake targets ${generated.entries.map((entry) => entry.name).join(", ")}`,
        hint: tooOld
          ? "this builder's BuildKit is too old for named contexts (needs 0.10 or newer): pass --builder with a buildkitd-backed builder (docs/stack.md)"
          : tail.lines.slice(-15).join("\n"),
      });
    }
    let metadata: Record<string, Record<string, unknown>>;
    try {
      metadata = JSON.parse(await readFile(metadataFile, "utf8")) as Record<string, Record<string, unknown>>;
    } catch (cause) {
      throw new ImagewrightError("failed", "buildx bake wrote no readable metadata file", { input: metadataFile, cause });
    }
    return generated.entries.map((entry) => {
      const own = metadata[entry.name] ?? {};
      const descriptor = own["containerimage.descriptor"] as { mediaType?: string; size?: number } | undefined;
      const digest = own["containerimage.digest"];
      const names = own["image.name"];
      return {
        name: entry.name,
        ...(typeof digest === "string" ? { digest } : {}),
        ...(descriptor?.mediaType === undefined ? {} : { mediaType: descriptor.mediaType }),
        ...(descriptor?.size === undefined ? {} : { size: descriptor.size }),
        imageNames: typeof names === "string" ? names.split(",").filter((n) => n !== "") : [],
        stepSeconds: Math.round((steps.seconds.get(entry.name) ?? 0) * 10) / 10,
      };
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function lastError(lines: readonly string[]): string {
  const error = [...lines].reverse().find((line) => /^(ERROR|error):|failed to solve|ERROR:/.test(line.trim()));
  return (error ?? lines.at(-1) ?? "no output").trim();
}

function runStreaming(program: string, args: string[], options: RunBakeOptions): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    const remember = (line: string): void => {
      lines.push(line);
      // Only the end is needed for the error message; the rest went to progress.
      if (lines.length > 400) lines.splice(0, lines.length - 200);
      options.onLine?.(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) remember(line);
      });
      stream.on("end", () => {
        if (partial !== "") remember(partial);
      });
    }
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        new ImagewrightError("unavailable", `cannot run ${program}: ${error.message}`, {
          input: `${program} ${args.slice(0, 2).join(" ")}`,
          hint: "install buildx (bash stack/tools.sh) or point IMAGEWRIGHT_BUILDX at a buildx binary",
          cause: error,
        }),
      );
    });
    child.on("close", (code) => resolve({ code: code ?? 1, lines }));
  });
}
