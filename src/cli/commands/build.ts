// `imagewright assemble` (daemonless: base + files → image, reproducible) and
// `imagewright build` (catalog plan → BuildKit through a generated bake file).

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Command } from "commander";
import { assemble, bakeBuild, planBuild, resolveSourceDateEpoch } from "../../build/index.ts";
import type { AssembleResult, BakeBuildSummary, BakeCache, BaseSelection, PlatformLayer } from "../../build/index.ts";
import { ImagewrightError } from "../../errors/index.ts";
import { formatPlatform, openLocation, parsePlatform, type Platform } from "../../oci/index.ts";
import { RegistryClient } from "../../registry/index.ts";
import { answer, humanBytes, outputOptions, progress, table } from "../output.ts";
import { catalogFromOptions } from "./catalog.ts";
import { addTriggerOptions, TRIGGER_HELP, triggerFromOptions, type TriggerOptions } from "./plan.ts";

const run = promisify(execFile);

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const ASSEMBLE_EXAMPLES = `
Examples:
  # a native binary and its scripts on the local Debian base, pushed to the local registry
  imagewright assemble --base 127.0.0.1:5000/imagewright/debian:bookworm \\
    --layer build/kafka-native:/opt/kafka/kafka.Kafka --layer docker/scripts:/opt/kafka/scripts \\
    --entrypoint '["/opt/kafka/scripts/launch"]' --env KAFKA_HOME=/opt/kafka --user 1000:1000 \\
    --expose 9092 --volume /var/lib/kafka/data --output 127.0.0.1:5000/stackable/kafka-native:4.1.0

  # two platforms from per-platform binaries → one index, written to an OCI layout
  imagewright assemble --base scratch --platform linux/amd64,linux/arm64 \\
    --layer linux/amd64=out/amd64/app:/app --layer linux/arm64=out/arm64/app:/app \\
    --entrypoint /app --output oci:./layout:app

Layers: --layer [<platform>=]<source>[:<destination>]; a directory's contents go under
the destination (default /), a file becomes the destination (or goes into it when the
destination ends in /). Entries are sorted, mtimes clamped to SOURCE_DATE_EPOCH
(--source-date-epoch <seconds|commit>, else the variable, else 0), owners 0:0 unless
--owner. The same inputs always give the same digest.`;

interface AssembleOptions {
  base: string[];
  layer?: string[];
  platform?: string[];
  entrypoint?: string;
  cmd?: string;
  env?: string[];
  user?: string;
  workdir?: string;
  expose?: string[];
  volume?: string[];
  label?: string[];
  annotation?: string[];
  stopSignal?: string;
  owner?: string;
  normaliseModes?: boolean;
  sourceDateEpoch?: string;
  compressionLevel?: string;
  index?: boolean;
  output: string;
}

const BUILD_EXAMPLES = `${TRIGGER_HELP}

Examples:
  # CI on a pushed git tag: exactly that image (and local images the registry lacks), pushed
  imagewright build --catalog examples/catalog --git-tag kafka4.1.0_stackable0.1.0 --push

  # show the generated bake file without building (pipe it to \`docker buildx bake -f -\`)
  imagewright build --catalog examples/catalog --select kafka=3.9.1 --dry-run

  # build into an OCI layout instead of a registry, with a buildkitd-backed builder
  imagewright build --catalog examples/catalog --select debian-base --output oci:./images --builder imagewright

The bake file has one target per image version (inheriting "_common"), local dependencies
as \`target:\` contexts, build args PRODUCT_VERSION, IMAGE_VERSION, <DEP>_VERSION, <DEP>_IMAGE,
the catalog's and --build-arg ones, OCI labels and annotations, tags from the tag scheme.
buildx runs as \`docker buildx\` unless IMAGEWRIGHT_BUILDX names a buildx binary.`;

interface BuildOptions extends TriggerOptions {
  push?: boolean;
  output?: string;
  dryRun?: boolean;
  builder?: string;
  buildArg?: string[];
  platform?: string[];
  cache?: string;
  sourceDateEpoch?: string;
  revision?: string;
  source?: string;
  licenses?: string;
  rebuildDependencies?: boolean;
}

export function register(program: Command): void {
  addTriggerOptions(
    program
      .command("build")
      .description("Build the images a trigger selects with BuildKit (docker buildx bake), and push them or write them to an OCI layout."),
  )
    .option("--push", "push every tag to its registry")
    .option("--output <oci:dir>", "write the images into this OCI layout directory, tagged")
    .option("--dry-run", "print the bake file instead of building")
    .option("--builder <name>", "buildx builder to use (default: $IMAGEWRIGHT_BUILDER, else buildx's current one)")
    .option("--build-arg <KEY=value>", "build argument for every target; wins over the catalog's (repeatable)", collect)
    .option("--platform <platforms>", "platforms for every target instead of the catalog's, comma-separated", collect)
    .option("--cache <registry|inline>", "build cache: a <repository>:buildcache image per repository, or inline")
    .option("--source-date-epoch <seconds|commit>", "timestamp for created (default: $SOURCE_DATE_EPOCH, else 0)")
    .option("--revision <commit>", "org.opencontainers.image.revision (default: the catalog checkout's HEAD)")
    .option("--source <url>", "org.opencontainers.image.source (default: the checkout's origin URL)")
    .option("--licenses <spdx>", "org.opencontainers.image.licenses")
    .option("--rebuild-dependencies", "build local dependencies even when the registry has them")
    .addHelpText("after", BUILD_EXAMPLES)
    .action(async (options: BuildOptions, command: Command) => {
      const catalog = catalogFromOptions(options);
      const plan = planBuild(catalog, await triggerFromOptions(catalog, options));
      const ociLayout = options.output === undefined ? undefined : ociDirectory(options.output);
      const revision = options.revision ?? (await git(catalog.root, ["rev-parse", "HEAD"]));
      const source = options.source ?? (await git(catalog.root, ["remote", "get-url", "origin"]));
      const builder = options.builder ?? (process.env.IMAGEWRIGHT_BUILDER || undefined);
      const client = new RegistryClient();
      try {
        const summary = await bakeBuild({
          plan,
          client,
          vendor: catalog.vendor,
          sourceDateEpoch: await resolveSourceDateEpoch(options.sourceDateEpoch, { cwd: catalog.root }),
          ...(revision === undefined ? {} : { revision }),
          ...(source === undefined ? {} : { source }),
          ...(options.licenses === undefined ? {} : { licenses: options.licenses }),
          ...(options.buildArg === undefined ? {} : { buildArgs: keyValues(options.buildArg, "--build-arg") }),
          ...(options.platform === undefined ? {} : { platforms: options.platform.flatMap((list) => list.split(",")).filter((p) => p !== "").map((p) => formatPlatform(parsePlatform(p))) }),
          ...(options.cache === undefined ? {} : { cache: parseCache(options.cache) }),
          ...(options.push === true ? { push: true } : {}),
          ...(ociLayout === undefined ? {} : { ociLayout }),
          ...(options.dryRun === true ? { dryRun: true } : {}),
          ...(options.rebuildDependencies === true ? { rebuildDependencies: true } : {}),
          bake: builder === undefined ? {} : { builder },
          onProgress: (line) => progress(command, line),
        });
        if (summary.dryRun && !outputOptions(command).json) {
          // The human answer to --dry-run is the bake file itself, ready for `buildx bake -f -`.
          progress(command, renderBuild(summary));
          process.stdout.write(JSON.stringify(summary.bakeFile, null, 2) + "\n");
          return;
        }
        answer(command, summary, renderBuild);
      } finally {
        await client.close();
      }
    });

  program
    .command("assemble")
    .description("Assemble an image without a daemon: a base image (or scratch) plus layers from files plus config changes.")
    .requiredOption("--base <ref>", "base image reference, `scratch`, or <platform>=<ref> per platform (repeatable)", collect)
    .option("--layer <[platform=]source[:destination]>", "add a layer from a directory or file (repeatable, in order)", collect)
    .option("--platform <platforms>", "platforms to build, comma-separated (default: the base's; scratch: linux/amd64)", collect)
    .option("--entrypoint <json|path>", "entrypoint: a JSON array, or one executable path")
    .option("--cmd <json|word>", "cmd: a JSON array, or one word")
    .option("--env <KEY=value>", "environment variable (repeatable)", collect)
    .option("--user <user[:group]>", "user the container runs as")
    .option("--workdir <path>", "working directory")
    .option("--expose <port[/proto]>", "exposed port (repeatable)", collect)
    .option("--volume <path>", "volume (repeatable)", collect)
    .option("--label <key=value>", "config label (repeatable)", collect)
    .option("--annotation <key=value>", "manifest annotation (repeatable)", collect)
    .option("--stop-signal <signal>", "signal that stops the container")
    .option("--owner <uid:gid|keep>", "owner of every layer entry (default 0:0), or keep the files' own ids")
    .option("--normalise-modes", "file modes as git sees them (0755/0644), independent of the umask")
    .option("--source-date-epoch <seconds|commit>", "timestamp for mtimes and created (default: $SOURCE_DATE_EPOCH, else 0)")
    .option("--compression-level <1-9>", "gzip level of new layers (default 1)")
    .option("--index", "write an index even for one platform")
    .requiredOption("--output <ref>", "where to write: registry reference or oci:<dir>[:<tag>]")
    .addHelpText("after", ASSEMBLE_EXAMPLES)
    .action(async (options: AssembleOptions, command: Command) => {
      const client = new RegistryClient();
      try {
        const result = await runAssemble(options, client, (line) => progress(command, line));
        answer(command, result, renderAssemble);
      } finally {
        await client.close();
      }
    });
}

async function runAssemble(options: AssembleOptions, client: RegistryClient, say: (line: string) => void): Promise<AssembleResult> {
  const platforms = options.platform?.flatMap((list) => list.split(",")).filter((p) => p !== "").map(parsePlatform);
  const bases: BaseSelection[] = [];
  for (const text of options.base) {
    const { platform, rest } = splitPlatform(text);
    if (rest === "scratch") {
      bases.push(platform === undefined ? { base: "scratch" } : { base: "scratch", platform });
      continue;
    }
    const location = await openLocation(rest, { client });
    const base = { store: location.store, reference: location.reference, name: rest };
    bases.push(platform === undefined ? { base } : { base, platform });
  }
  const layers = (options.layer ?? []).map(parseLayer);
  const output = await openLocation(options.output, { client, forWriting: true });
  if (/^sha(256|512):/.test(output.reference)) {
    throw new ImagewrightError("usage", "--output names where to write, so it takes a tag, not a digest", { input: `--output ${options.output}` });
  }
  const level = options.compressionLevel === undefined ? undefined : Number(options.compressionLevel);
  return assemble({
    bases,
    layers,
    ...(platforms === undefined ? {} : { platforms }),
    config: {
      ...(options.entrypoint === undefined ? {} : { entrypoint: parseWords(options.entrypoint, "--entrypoint") }),
      ...(options.cmd === undefined ? {} : { cmd: parseWords(options.cmd, "--cmd") }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
      ...(options.expose === undefined ? {} : { exposedPorts: options.expose }),
      ...(options.volume === undefined ? {} : { volumes: options.volume }),
      ...(options.label === undefined ? {} : { labels: keyValues(options.label, "--label") }),
      ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
    },
    ...(options.annotation === undefined ? {} : { annotations: keyValues(options.annotation, "--annotation") }),
    sourceDateEpoch: await resolveSourceDateEpoch(options.sourceDateEpoch),
    ...(options.owner === undefined ? {} : { owner: parseOwner(options.owner) }),
    ...(options.normaliseModes === true ? { modes: "normalise" as const } : {}),
    ...(level === undefined ? {} : { compressionLevel: level }),
    ...(options.index === true ? { index: true } : {}),
    target: output.store,
    ...(output.reference === "" ? {} : { tag: output.reference }),
    onProgress: say,
  });
}

function ociDirectory(output: string): string {
  if (!output.startsWith("oci:") || output.length <= 4) {
    throw new ImagewrightError("usage", `--output takes oci:<dir>; registries are written with --push`, { input: `--output ${output}`, place: "character 1" });
  }
  return output.slice(4);
}

function parseCache(text: string): BakeCache {
  if (text === "registry") return { kind: "registry" };
  if (text === "inline") return { kind: "inline" };
  throw new ImagewrightError("usage", `--cache "${text}" is not registry or inline`, { input: `--cache ${text}` });
}

/** A git answer, or undefined outside a checkout (labels are then simply left out). */
async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", args, { cwd });
    const value = stdout.trim();
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

function renderBuild(summary: BakeBuildSummary): string {
  const lines = [
    `${summary.targets.length} target${summary.targets.length === 1 ? "" : "s"} for ${summary.trigger}${summary.dryRun ? " (dry run)" : ""}:`,
    table(summary.targets, [
      { header: "TARGET", value: (t) => t.id },
      { header: "STATUS", value: (t) => t.status },
      { header: "WHY", value: (t) => t.reason },
      { header: "TAGS", value: (t) => t.tags.join(", ") },
      { header: "DIGEST", value: (t) => t.digest ?? "-" },
      { header: "SIZE", value: (t) => (t.size === undefined ? "-" : humanBytes(t.size)), align: "right" },
      { header: "STEPS", value: (t) => (t.buildSeconds === undefined ? "-" : `${t.buildSeconds.toFixed(1)} s`), align: "right" },
    ]),
  ];
  if (!summary.dryRun) lines.push(`bake ${summary.bakeMs} ms, total ${summary.durationMs} ms`);
  return lines.join("\n");
}

const PLATFORM_PREFIX = /^([a-z0-9_.-]+\/[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)?)=(.*)$/;

function splitPlatform(text: string): { platform?: Platform; rest: string } {
  const match = PLATFORM_PREFIX.exec(text);
  if (match === null) return { rest: text };
  return { platform: parsePlatform(match[1]!), rest: match[2]! };
}

/** `[platform=]source[:destination]`; the destination is the part after the last `:/`. */
export function parseLayer(text: string): PlatformLayer {
  const { platform, rest } = splitPlatform(text);
  const split = rest.lastIndexOf(":/");
  const source = split > 0 ? rest.slice(0, split) : rest;
  const destination = split > 0 ? rest.slice(split + 1) : "/";
  if (source === "") {
    throw new ImagewrightError("usage", `layer "${text}" names no source`, { input: `--layer ${text}`, place: "character 1", hint: "write <source>[:<destination>], e.g. dist:/opt/app" });
  }
  return { source, destination, ...(platform === undefined ? {} : { platform }) };
}

/** A JSON array of strings, or one word taken as it is — never split on spaces. */
export function parseWords(text: string, flag: string): string[] {
  if (!text.trimStart().startsWith("[")) return [text];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : "";
    const position = /position (\d+)/.exec(message)?.[1];
    const place = position !== undefined ? `character ${Number(position) + 1}` : `character ${text.length + 1} (end of input)`;
    throw new ImagewrightError("invalid-input", `${flag} is not a JSON array of strings: ${message}`, { input: `${flag} ${text}`, place, cause });
  }
  if (!Array.isArray(value) || value.some((word) => typeof word !== "string")) {
    throw new ImagewrightError("invalid-input", `${flag} must be an array of strings`, { input: `${flag} ${text}` });
  }
  return value as string[];
}

function keyValues(entries: readonly string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf("=");
    if (equals <= 0) throw new ImagewrightError("usage", `${flag} "${entry}" is not key=value`, { input: `${flag} ${entry}` });
    result[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return result;
}

function parseOwner(text: string): { uid: number; gid: number } | "keep" {
  if (text === "keep") return "keep";
  const match = /^(\d{1,7}):(\d{1,7})$/.exec(text);
  if (match === null) {
    throw new ImagewrightError("usage", `--owner "${text}" is not <uid>:<gid> (numbers) or keep`, { input: `--owner ${text}` });
  }
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

function renderAssemble(result: AssembleResult): string {
  const lines = [
    `${result.target}${result.tag === undefined ? "" : `:${result.tag}`}@${result.descriptor.digest}`,
    "",
    table(result.platforms, [
      { header: "PLATFORM", value: (p) => p.platform },
      { header: "MANIFEST", value: (p) => p.manifest.digest },
      { header: "LAYERS", value: (p) => String(p.layers), align: "right" },
      { header: "BASE", value: (p) => p.base },
    ]),
    "",
    table(result.layers, [
      { header: "LAYER", value: (l) => `${l.platform === undefined ? "" : `${l.platform}=`}${l.destination}` },
      { header: "DIGEST", value: (l) => l.digest },
      { header: "SIZE", value: (l) => humanBytes(l.size), align: "right" },
      { header: "UNPACKED", value: (l) => humanBytes(l.uncompressedSize), align: "right" },
      { header: "ENTRIES", value: (l) => String(l.entries), align: "right" },
    ]),
    "",
    `blobs: ${result.traffic.uploaded} uploaded (${humanBytes(result.traffic.uploadedBytes)}), ${result.traffic.present} already there, ${result.traffic.mounted} mounted; ${result.durationMs} ms`,
  ];
  return lines.join("\n");
}
