// The build plan: from the catalog and a trigger (a git tag, a selection, everything,
// or what changed) to the targets to build, each after the local images it needs.

import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { dependencyOf, dependencyOrder, dependents, repositoryOf, versionLabel } from "../catalog/index.ts";
import type { Artifact, Catalog, CatalogVersion, Support } from "../catalog/index.ts";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { floatingTags, formatTag, readGitTag } from "../versioning/index.ts";
import type { ImageCoordinates } from "../versioning/index.ts";

const run = promisify(execFile);

export type PlanTrigger =
  /** A pushed git tag: exactly that image version (and the local images it needs). */
  | { kind: "git-tag"; gitTag: string }
  /** `kafka=3.9.1,4.1.0` or `kafka` (all its versions), one string per --select. */
  | { kind: "selection"; selections: readonly string[] }
  /** Every supported product version. */
  | { kind: "all" }
  /** Images with changed files since `since` (paths relative to the catalog root), and what depends on them. */
  | { kind: "changed"; since: string; changedFiles: readonly string[] };

/** Why a target is in the plan. */
export type TargetReason = "requested" | "dependency" | "dependent";

export interface PlanTarget {
  /** `kafka-4.1.0`: unique in a catalog (a product version has no `-`). */
  id: string;
  image: string;
  productVersion: string;
  imageVersion: string;
  /** Release candidate number when the trigger was an RC git tag. */
  rc: number | undefined;
  /** Registry tags: the tag itself first, then floating tags. */
  tags: string[];
  /** Full references, one per tag: `127.0.0.1:5000/stackable/kafka:4.1.0_stackable0.1.0`. */
  references: string[];
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  platforms: string[];
  /** Ids of the targets this one is built from; they come earlier in the plan. */
  dependencies: string[];
  /** 0 for targets without dependencies; targets of one depth can be built in parallel. */
  depth: number;
  reason: TargetReason;
  support: Support;
  testSuite: string | undefined;
  artifact: Artifact | undefined;
}

export interface BuildPlan {
  /** The trigger as the user gave it, e.g. `git tag kafka4.1.0_stackable0.1.0`. */
  trigger: string;
  targets: PlanTarget[];
}

export function targetId(version: { image: string; productVersion: string }): string {
  return `${version.image}-${version.productVersion}`;
}

/** The name a dependency's build arguments start with: `java-base` → `JAVA_BASE`. */
export function buildArgPrefix(image: string): string {
  let prefix = prefixes.get(image);
  if (prefix === undefined) {
    prefix = image.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
    prefixes.set(image, prefix);
  }
  return prefix;
}
const prefixes = new Map<string, string>();

/** Plans the build for `trigger`: targets in dependency order, deterministic for a given catalog. */
export function planBuild(catalog: Catalog, trigger: PlanTrigger): BuildPlan {
  const requested = new Map<CatalogVersion, { reason: TargetReason; rc?: number }>();
  let description: string;
  switch (trigger.kind) {
    case "git-tag": {
      description = `git tag ${trigger.gitTag}`;
      const { versions, rc } = versionsOfGitTag(catalog, trigger.gitTag);
      for (const version of versions) requested.set(version, rc === undefined ? { reason: "requested" } : { reason: "requested", rc });
      break;
    }
    case "selection":
      description = `selection ${trigger.selections.join(" ")}`;
      for (const version of selectedVersions(catalog, trigger.selections)) requested.set(version, { reason: "requested" });
      break;
    case "all":
      description = "all supported versions";
      for (const image of catalog.images) {
        for (const version of image.versions) if (version.support.status === "supported") requested.set(version, { reason: "requested" });
      }
      break;
    case "changed":
      description = `changed since ${trigger.since}`;
      for (const [version, reason] of changedVersions(catalog, trigger.changedFiles)) requested.set(version, { reason });
      break;
  }

  const ordered = dependencyOrder(catalog, requested.keys());
  const targets = ordered.map(({ version, depth }) => {
    const request = requested.get(version);
    return target(catalog, version, depth, request?.reason ?? "dependency", request?.rc);
  });
  return { trigger: description, targets };
}

function target(
  catalog: Catalog,
  version: CatalogVersion,
  depth: number,
  reason: TargetReason,
  rc: number | undefined,
): PlanTarget {
  const coordinates: ImageCoordinates = { product: version.image, productVersion: version.productVersion, imageVersion: version.imageVersion };
  if (rc !== undefined) coordinates.rc = rc;
  const tag = rc === undefined ? version.tag : formatTag(catalog.tagScheme, coordinates);
  const floating = rc === undefined && catalog.tagScheme.floatingTags.length > 0 ? floatingTags(catalog.tagScheme, coordinates) : [];
  const tags = [tag, ...floating];
  // Release candidates go to the evaluation repository; only a promotion makes them releases.
  const repository = rc === undefined ? repositoryOf(catalog, version.image) : repositoryOf(catalog.evaluation, version.image);

  const generated: Record<string, string> = { PRODUCT_VERSION: version.productVersion, IMAGE_VERSION: version.imageVersion };
  for (const dependency of version.dependencies) {
    const used = dependencyOf(catalog, dependency);
    const prefix = buildArgPrefix(used.image);
    generated[`${prefix}_VERSION`] = used.productVersion;
    generated[`${prefix}_IMAGE`] = `${repositoryOf(catalog, used.image)}:${used.tag}`;
  }
  if (version.artifact !== undefined) {
    generated["ARTIFACT_URL"] = version.artifact.url;
    if (version.artifact.checksumUrl !== undefined) generated["ARTIFACT_CHECKSUM_URL"] = version.artifact.checksumUrl;
  }
  for (const name of Object.keys(version.buildArgs)) {
    if (name in generated) {
      throw new ImagewrightError("invalid-input", `build argument ${name} of ${versionLabel(version)} is one imagewright sets itself`, {
        input: `catalog image ${version.image}`,
        place: version.place(),
        hint: `rename it; imagewright sets ${Object.keys(generated).join(", ")}`,
      });
    }
  }

  return {
    id: targetId(version),
    image: version.image,
    productVersion: version.productVersion,
    imageVersion: version.imageVersion,
    // Optional fields are present as undefined (left out of JSON): one object shape for every target.
    rc,
    tags,
    references: tags.map((t) => `${repository}:${t}`),
    dockerfile: version.dockerfile,
    context: version.context,
    buildArgs: { ...version.buildArgs, ...generated },
    platforms: [...version.platforms],
    dependencies: version.dependencies.map((d) => targetId(d)),
    depth,
    reason,
    support: version.support,
    testSuite: version.testSuite,
    artifact: version.artifact,
  };
}

/** The catalog versions a git tag stands for; refuses a tag whose image version the catalog does not have. */
function versionsOfGitTag(catalog: Catalog, gitTag: string): { versions: CatalogVersion[]; rc?: number } {
  let coordinates: ImageCoordinates;
  try {
    coordinates = readGitTag(catalog.tagScheme, gitTag, catalog.images.map((image) => image.name)).coordinates;
  } catch (error) {
    if (isImagewrightError(error)) throw error.during(`reading git tag ${gitTag} with tag scheme ${catalog.tagScheme.name}`);
    throw error;
  }
  // A scheme whose git tags name no product (Kafka's own: `4.1.0`) releases every product image of that version.
  const images =
    coordinates.product === undefined
      ? catalog.images.filter((image) => image.kind === "product" && image.byProductVersion.has(coordinates.productVersion))
      : [catalog.byName.get(coordinates.product)].filter((image) => image !== undefined);
  if (images.length === 0) {
    throw new ImagewrightError("not-found", `no image of the catalog has product version ${coordinates.productVersion}${coordinates.product === undefined ? "" : ` of ${coordinates.product}`}`, {
      input: `git tag ${gitTag}`,
      hint: `images: ${catalog.images.map((image) => image.name).join(", ")}`,
    });
  }
  const versions = images.map((image) => {
    const version = image.byProductVersion.get(coordinates.productVersion);
    if (version === undefined) {
      throw new ImagewrightError("not-found", `${image.name} has no product version ${coordinates.productVersion} in the catalog`, {
        input: `git tag ${gitTag}`,
        place: image.file,
        hint: `${image.name} has: ${image.versions.map((v) => v.productVersion).join(", ")}`,
      });
    }
    if (coordinates.imageVersion !== undefined && coordinates.imageVersion !== version.imageVersion) {
      throw new ImagewrightError(
        "conflict",
        `git tag ${gitTag} asks for ${image.name} ${version.productVersion} image version ${coordinates.imageVersion}, but the catalog has image version ${version.imageVersion}`,
        {
          input: `git tag ${gitTag}`,
          place: version.place(),
          hint: "tag the commit whose catalog has that image version, or change the catalog's imageVersion first",
        },
      );
    }
    return version;
  });
  return coordinates.rc === undefined ? { versions } : { versions, rc: coordinates.rc };
}

/** `kafka=3.9.1,4.1.0` (those versions) or `kafka` (all of them). */
function selectedVersions(catalog: Catalog, selections: readonly string[]): CatalogVersion[] {
  const versions: CatalogVersion[] = [];
  for (const selection of selections) {
    const match = /^([^=\s]+)(?:=(.*))?$/.exec(selection.trim());
    const name = match?.[1];
    const list = match?.[2];
    if (name === undefined || (list !== undefined && list.split(",").some((v) => v.trim() === ""))) {
      throw new ImagewrightError("invalid-input", `selection "${selection}" is not <image> or <image>=<version>[,<version>…]`, {
        input: `--select ${selection}`,
        hint: "e.g. --select kafka=3.9.1,4.1.0 or --select kafka",
      });
    }
    const image = catalog.byName.get(name);
    if (image === undefined) {
      throw new ImagewrightError("not-found", `the catalog has no image "${name}"`, {
        input: `--select ${selection}`,
        hint: `images: ${catalog.images.map((i) => i.name).join(", ")}`,
      });
    }
    if (list === undefined) {
      versions.push(...image.versions);
      continue;
    }
    for (const wanted of list.split(",").map((v) => v.trim())) {
      const version = image.byProductVersion.get(wanted);
      if (version === undefined) {
        throw new ImagewrightError("not-found", `${name} has no product version ${wanted} in the catalog`, {
          input: `--select ${selection}`,
          hint: `${name} has: ${image.versions.map((v) => v.productVersion).join(", ")}`,
        });
      }
      versions.push(version);
    }
  }
  return versions;
}

/**
 * Versions of images with a changed file, and everything that depends on them
 * (transitively). A changed imagewright.yaml changes every image.
 */
function changedVersions(catalog: Catalog, changedFiles: readonly string[]): Map<CatalogVersion, TargetReason> {
  const result = new Map<CatalogVersion, TargetReason>();
  const rootFile = relative(catalog.root, catalog.file);
  const changedImages = new Set<string>();
  for (const file of changedFiles) {
    if (file === rootFile) {
      for (const image of catalog.images) changedImages.add(image.name);
      continue;
    }
    for (const image of catalog.images) {
      const folder = relative(catalog.root, image.directory);
      if (file === folder || file.startsWith(folder + "/") || file.startsWith(folder + sep)) changedImages.add(image.name);
    }
  }
  const queue: CatalogVersion[] = [];
  for (const name of changedImages) {
    for (const version of catalog.byName.get(name)?.versions ?? []) {
      if (version.support.status !== "supported") continue;
      result.set(version, "requested");
      queue.push(version);
    }
  }
  const users = dependents(catalog);
  while (queue.length > 0) {
    const version = queue.pop()!;
    for (const user of users.get(version) ?? []) {
      if (result.has(user) || user.support.status !== "supported") continue;
      result.set(user, "dependent");
      queue.push(user);
    }
  }
  return result;
}

/**
 * Files under the catalog that differ between `since` and the working tree, relative
 * to the catalog root (`git diff --name-only`, run without a shell).
 */
export async function changedFilesSince(catalog: Catalog, since: string): Promise<string[]> {
  const git = async (args: string[], failure?: string): Promise<string> => {
    try {
      const { stdout } = await run("git", args, { cwd: catalog.root, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ENOENT") {
        throw new ImagewrightError("unavailable", "git is not installed", { input: "git", hint: "install git to use --changed-since" });
      }
      const raw = (error as { stderr?: unknown }).stderr;
      const stderr = (typeof raw === "string" ? raw : "").trim();
      throw new ImagewrightError("invalid-input", failure ?? `git ${args.join(" ")} failed: ${stderr.split("\n")[0] ?? ""}`, {
        input: `--changed-since ${since}`,
        hint: "give a commit, branch or tag of the repository that holds the catalog",
        cause: error,
      });
    }
  };
  if (since.startsWith("-")) {
    throw new ImagewrightError("invalid-input", `revision "${since}" looks like an option`, { input: `--changed-since ${since}` });
  }
  const top = (await git(["rev-parse", "--show-toplevel"])).trim();
  await git(["rev-parse", "--verify", "--quiet", `${since}^{commit}`], `git knows no commit "${since}" in the repository of the catalog`);
  const changed = await git(["diff", "--name-only", "--no-renames", since, "--", "."]);
  // New files not yet committed are changes too.
  const untracked = await git(["ls-files", "--others", "--exclude-standard", "--full-name", "--", "."]);
  // git names files relative to the top of the repository, which is a real path.
  const root = realpathSync(catalog.root);
  const files = new Set<string>();
  for (const line of `${changed}\n${untracked}`.split("\n")) {
    if (line !== "") files.add(relative(root, join(top, line)).split(sep).join("/"));
  }
  return [...files].sort();
}
