// Building a plan with BuildKit: leave out dependencies the registry already has
// at their tag, generate the bake file, run it (or only show it), and summarise
// each target's tags, digest and size.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { copy, isIndexMediaType, OciLayout, parseManifest, parseRegistryReference } from "../oci/index.ts";
import type { Descriptor, ImageStore } from "../oci/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import { generateBake, runBake, type BakeFile, type BakeOptions, type RunBakeOptions } from "./bake.ts";
import type { BuildPlan, PlanTarget, TargetReason } from "./plan.ts";

/** The bake file's settings (labels, build args, platforms, cache) plus what to do with the result. */
export interface BakeBuildRequest extends Omit<BakeOptions, "output" | "skip"> {
  plan: BuildPlan;
  client: RegistryClient;
  /** Push every tag to its registry. */
  push?: boolean;
  /** Also (or instead) write every image into this OCI layout directory, tagged. */
  ociLayout?: string;
  /** Only generate the bake file. */
  dryRun?: boolean;
  /** Build dependencies even when the registry has them at their tag. */
  rebuildDependencies?: boolean;
  bake?: RunBakeOptions;
  onProgress?: (line: string) => void;
}

export type TargetStatus = "built" | "present" | "planned" | "not-needed";

export interface BuiltTarget {
  id: string;
  image: string;
  productVersion: string;
  imageVersion: string;
  reason: TargetReason;
  /**
   * built: bake made it; present: a dependency the registry already had; planned: a dry
   * run's target; not-needed: a dependency only of dependencies that are present.
   */
  status: TargetStatus;
  tags: string[];
  references: string[];
  platforms: string[];
  digest?: string;
  mediaType?: string;
  /** Compressed bytes of every distinct config and layer blob the image (all platforms) refers to. */
  size?: number;
  /** Seconds of BuildKit steps of this target (parallel steps overlap; see StepTimes). */
  buildSeconds?: number;
}

export interface BakeBuildSummary {
  trigger: string;
  dryRun: boolean;
  bakeFile: BakeFile;
  targets: BuiltTarget[];
  /** Wall time of the bake run (0 for a dry run). */
  bakeMs: number;
  durationMs: number;
}

/** Builds the plan's targets with `buildx bake`; see BakeBuildRequest for what goes where. */
export async function bakeBuild(request: BakeBuildRequest): Promise<BakeBuildSummary> {
  const started = performance.now();
  const say = request.onProgress ?? ((): void => undefined);
  if (request.dryRun !== true && request.push !== true && request.ociLayout === undefined) {
    // Allowed: a build that only proves the Dockerfiles build (results stay in the builder's cache).
    say("neither --push nor --output: building into the builder's cache only");
  }
  if (request.ociLayout !== undefined && request.push === true) {
    throw new ImagewrightError("usage", "choose --push or --output oci:<dir>, not both", { input: "--push/--output" });
  }
  const present = new Map<string, Descriptor>();
  const needed = await neededTargets(request, present, say);
  const work = request.ociLayout !== undefined && request.dryRun !== true ? await mkdtemp(path.join(tmpdir(), "imagewright-bake-oci-")) : undefined;
  try {
    const generated = generateBake(request.plan, {
      vendor: request.vendor,
      sourceDateEpoch: request.sourceDateEpoch,
      ...(request.revision === undefined ? {} : { revision: request.revision }),
      ...(request.source === undefined ? {} : { source: request.source }),
      ...(request.licenses === undefined ? {} : { licenses: request.licenses }),
      ...(request.buildArgs === undefined ? {} : { buildArgs: request.buildArgs }),
      ...(request.platforms === undefined ? {} : { platforms: request.platforms }),
      ...(request.cache === undefined ? {} : { cache: request.cache }),
      output: work !== undefined ? { kind: "oci", directory: work } : request.push === true ? { kind: "push" } : { kind: "cacheonly" },
      skip: new Set(request.plan.targets.filter((target) => !needed.has(target.id)).map((target) => target.id)),
    });
    const summaryOf = (target: PlanTarget, status: TargetStatus, extra: Partial<BuiltTarget> = {}): BuiltTarget => ({
      id: target.id,
      image: target.image,
      productVersion: target.productVersion,
      imageVersion: target.imageVersion,
      reason: target.reason,
      status,
      tags: target.tags,
      references: target.references,
      platforms: request.platforms ?? target.platforms,
      ...extra,
    });
    if (request.dryRun === true) {
      return {
        trigger: request.plan.trigger,
        dryRun: true,
        bakeFile: generated.file,
        targets: request.plan.targets.map((target) => {
          const found = present.get(target.id);
          if (found !== undefined) return summaryOf(target, "present", { digest: found.digest, mediaType: found.mediaType });
          return summaryOf(target, needed.has(target.id) ? "planned" : "not-needed");
        }),
        bakeMs: 0,
        durationMs: Math.round(performance.now() - started),
      };
    }
    say(`bake: ${generated.entries.map((entry) => entry.name).join(", ") || "nothing to build"}`);
    const bakeStarted = performance.now();
    const results = await runBake(generated, { ...request.bake, onLine: request.bake?.onLine ?? say });
    const bakeMs = Math.round(performance.now() - bakeStarted);
    const byName = new Map(results.map((result) => [result.name, result]));
    const layout = request.ociLayout !== undefined ? await OciLayout.open(request.ociLayout, { create: true }) : undefined;
    const targets: BuiltTarget[] = [];
    for (const target of request.plan.targets) {
      const found = present.get(target.id);
      if (found !== undefined) {
        targets.push(summaryOf(target, "present", { digest: found.digest, mediaType: found.mediaType, size: await imageSize(storeOf(request.client, target), found) }));
        continue;
      }
      if (!needed.has(target.id)) {
        targets.push(summaryOf(target, "not-needed"));
        continue;
      }
      const entry = generated.entries.find((candidate) => candidate.id === target.id)!;
      const result = byName.get(entry.name);
      let extra: Partial<BuiltTarget> = {};
      if (result?.digest !== undefined) extra = { digest: result.digest, ...(result.mediaType === undefined ? {} : { mediaType: result.mediaType }) };
      if (result !== undefined) extra.buildSeconds = result.stepSeconds;
      if (layout !== undefined && entry.ociDirectory !== undefined) {
        const built = await OciLayout.open(entry.ociDirectory);
        for (const tag of target.tags) await copy(built, result?.digest ?? "", layout, tag);
        const descriptor = await layout.resolve(target.tags[0]!);
        extra = { ...extra, digest: descriptor.digest, mediaType: descriptor.mediaType, size: await imageSize(layout, descriptor) };
      } else if (request.push === true && result?.digest !== undefined) {
        const store = storeOf(request.client, target);
        extra.size = await imageSize(store, await store.resolve(result.digest));
      }
      targets.push(summaryOf(target, "built", extra));
    }
    return { trigger: request.plan.trigger, dryRun: false, bakeFile: generated.file, targets, bakeMs, durationMs: Math.round(performance.now() - started) };
  } finally {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }
}

/**
 * Requested targets are always built. A dependency is built only when something
 * being built needs it and the registry does not have it at its tag; walking the
 * plan backwards (dependents before dependencies) stops at the first present image.
 */
async function neededTargets(request: BakeBuildRequest, present: Map<string, Descriptor>, say: (line: string) => void): Promise<Set<string>> {
  const needed = new Set(request.plan.targets.filter((target) => target.reason !== "dependency").map((target) => target.id));
  const byId = new Map(request.plan.targets.map((target) => [target.id, target]));
  for (const target of [...request.plan.targets].reverse()) {
    if (!needed.has(target.id)) continue;
    for (const dependencyId of target.dependencies) {
      if (needed.has(dependencyId) || present.has(dependencyId)) continue;
      const dependency = byId.get(dependencyId);
      if (dependency === undefined) continue;
      const found = request.rebuildDependencies === true ? undefined : await registryHas(request.client, dependency);
      if (found !== undefined) {
        present.set(dependencyId, found);
        say(`${dependencyId}: ${dependency.references[0]} is in the registry (${found.digest.slice(0, 19)}), not rebuilt`);
      } else {
        needed.add(dependencyId);
      }
    }
  }
  return needed;
}

function storeOf(client: RegistryClient, target: PlanTarget): ImageStore {
  const reference = parseRegistryReference(target.references[0]!);
  return client.repository(reference.registry, reference.repository);
}

/** The descriptor the registry has at the target's first tag, or undefined when it has none. */
async function registryHas(client: RegistryClient, target: PlanTarget): Promise<Descriptor | undefined> {
  const reference = parseRegistryReference(target.references[0]!);
  try {
    return await client.repository(reference.registry, reference.repository).resolve(reference.tag ?? "latest");
  } catch (error) {
    if (isImagewrightError(error) && error.kind === "not-found") return undefined;
    if (isImagewrightError(error)) throw error.during(`checking whether ${target.references[0]} is already built`);
    throw error;
  }
}

/** Sum of the distinct blobs (configs and layers) an image or index refers to. */
export async function imageSize(store: ImageStore, descriptor: Descriptor): Promise<number> {
  const seen = new Map<string, number>();
  const visit = async (reference: string): Promise<void> => {
    const stored = await store.getManifest(reference);
    const parsed = parseManifest(stored.bytes, `${store.name}@${reference}`);
    if (parsed.kind === "index") {
      for (const child of parsed.index.manifests) {
        if (isIndexMediaType(child.mediaType) || child.mediaType.includes("manifest")) await visit(child.digest);
      }
      return;
    }
    for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) seen.set(blob.digest, blob.size);
  };
  await visit(descriptor.digest);
  return [...seen.values()].reduce((sum, size) => sum + size, 0);
}
