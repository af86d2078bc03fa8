// Loads a catalog folder (imagewright.yaml + images/<name>/image.yaml), validates it
// completely and reports every problem at its file, line and column.

import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { z } from "zod";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import {
  compareProductVersions,
  formatTag,
  isImageVersion,
  parseProductVersion,
  tagScheme as makeTagScheme,
} from "../versioning/index.ts";
import type { TagScheme, TagSchemeConfig } from "../versioning/index.ts";
import { dependencyOrder } from "./graph.ts";
import { FolderConfinement } from "./paths.ts";
import { catalogFileSchema, IMAGE_NAME, imageFileSchema, KNOWN_KEYS } from "./schema.ts";
import type { CatalogFile, ImageFile } from "./schema.ts";
import { displayPath, YamlSource } from "./source.ts";
import type { CatalogProblem, PathSegment } from "./source.ts";
import type { Artifact, Catalog, CatalogImage, CatalogVersion, Dependency, Support } from "./model.ts";

export const CATALOG_FILE = "imagewright.yaml";
export const IMAGE_FILE = "image.yaml";

/** A catalog that failed validation; carries every problem found, not just the first. */
export class CatalogInvalidError extends ImagewrightError {
  readonly problems: readonly CatalogProblem[];

  constructor(found: readonly CatalogProblem[]) {
    // Versions that share a default (a Dockerfile, an artifact template) share its problem: say it once.
    const seen = new Set<string>();
    const problems = found.filter((p) => {
      const key = `${p.file}:${p.line}:${p.column}:${p.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    const [first, ...rest] = problems;
    if (first === undefined) throw new Error("CatalogInvalidError needs at least one problem");
    const also = rest.map((p) => `\n  also ${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`).join("");
    super("invalid-input", `invalid catalog: ${first.path}: ${first.message}${also}`, {
      input: `catalog file ${first.file}`,
      place: `${first.file}:${first.line}:${first.column}`,
    });
    this.problems = problems;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), problems: this.problems };
  }
}

/**
 * The folder a command should read the catalog from: the flag, else
 * IMAGEWRIGHT_CATALOG, else the working directory.
 */
export function catalogLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env["IMAGEWRIGHT_CATALOG"];
  return resolve(chosen === undefined || chosen === "" ? process.cwd() : chosen);
}

/** Loads and validates the catalog at `location` (its folder, or its imagewright.yaml). */
export function loadCatalog(location: string): Catalog {
  const absolute = resolve(location);
  const isFile = existsSync(absolute) && statSync(absolute).isFile();
  const root = isFile ? dirname(absolute) : absolute;
  const file = isFile ? absolute : join(root, CATALOG_FILE);
  if (!existsSync(file)) {
    throw new ImagewrightError("not-found", `no catalog: ${displayPath(file)} does not exist`, {
      input: `catalog ${displayPath(absolute)}`,
      hint: `pass --catalog <folder with ${CATALOG_FILE}>, set IMAGEWRIGHT_CATALOG, or run in the catalog's folder`,
    });
  }
  return new CatalogLoader(root, file).load();
}

class CatalogLoader {
  private readonly problems: CatalogProblem[] = [];
  /** Where each dependency is declared, to point at it when it names nothing in the catalog. */
  private readonly declarations = new Map<Dependency, { source: YamlSource; path: PathSegment[] }>();
  private readonly checkedTemplates = new WeakMap<object, boolean>();
  private readonly confinement = new FolderConfinement();
  private readonly root: string;
  private readonly file: string;

  constructor(root: string, file: string) {
    this.root = root;
    this.file = file;
  }

  load(): Catalog {
    const source = YamlSource.read(this.file);
    const settings = this.validate(source, catalogFileSchema);
    if (settings === undefined) throw new CatalogInvalidError(this.problems);

    const scheme = this.tagScheme(source, settings);
    const imagesFolder = this.imagesFolder(source, settings.images ?? "images");
    const images: CatalogImage[] = [];
    if (imagesFolder !== undefined) {
      for (const name of readdirSync(imagesFolder).sort()) {
        // Hidden folders (.git, editor caches) are not images.
        if (name.startsWith(".")) continue;
        const directory = join(imagesFolder, name);
        // Files beside the image folders (a README) are not images; a dangling symlink is nothing.
        if (!isDirectory(directory)) continue;
        const image = this.image(source, settings, scheme, name, directory);
        if (image !== undefined) images.push(image);
      }
    }
    if (this.problems.length > 0) throw new CatalogInvalidError(this.problems);

    const catalog: Catalog = {
      root: this.root,
      file: this.file,
      registry: settings.registry,
      namespace: settings.namespace,
      vendor: settings.vendor,
      tagSchemeConfig: this.schemeConfig(settings),
      tagScheme: scheme!,
      platforms: settings.platforms,
      evaluation: {
        registry: settings.evaluation?.registry ?? settings.registry,
        namespace: settings.evaluation?.namespace ?? settings.namespace,
      },
      images,
      byName: new Map(images.map((image) => [image.name, image])),
    };
    this.checkDependencies(catalog);
    if (this.problems.length > 0) throw new CatalogInvalidError(this.problems);
    // Every version as a root: this visits the whole graph once and throws on a cycle.
    dependencyOrder(
      catalog,
      images.flatMap((image) => image.versions),
    );
    return catalog;
  }

  /** Syntax first, then the schema; undefined when either failed (problems recorded). */
  private validate<S extends z.ZodType>(source: YamlSource, schema: S): z.infer<S> | undefined {
    const read = source.data();
    if ("problems" in read) {
      this.problems.push(...read.problems);
      return undefined;
    }
    const result = schema.safeParse(read.value ?? {});
    if (result.success) return result.data;
    for (const issue of result.error.issues) this.problems.push(...issueProblems(source, read.value, issue, []));
    return undefined;
  }

  private schemeConfig(settings: CatalogFile): TagSchemeConfig {
    const configured = settings.tagScheme;
    // The catalog's vendor word fills in a scheme that does not name its own.
    if (typeof configured === "string") return { preset: configured, vendor: settings.vendor };
    return configured.vendor === undefined ? { ...configured, vendor: settings.vendor } : configured;
  }

  private tagScheme(source: YamlSource, settings: CatalogFile): TagScheme | undefined {
    try {
      return makeTagScheme(this.schemeConfig(settings));
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      this.problems.push(source.problem(this.schemePath(source, error.place), error.message + (error.hint === undefined ? "" : ` (${error.hint})`)));
      return undefined;
    }
  }

  /** The YAML path of a tag scheme error's place (`tagScheme.vendor`); the vendor may come from the root key. */
  private schemePath(source: YamlSource, place: string | undefined): PathSegment[] {
    const path = (place ?? "tagScheme").split(".");
    if (source.has(path)) return path;
    if (path[path.length - 1] === "vendor" && source.has(["vendor"])) return ["vendor"];
    return ["tagScheme"];
  }

  /** The real path of an image folder when it is not inside the catalog's folder. */
  private outsideCatalog(directory: string): string | undefined {
    const real = this.confinement.real(directory);
    const root = this.confinement.real(this.root);
    if (real === undefined || root === undefined) return undefined;
    return real.startsWith(root + sep) ? undefined : real;
  }

  private imagesFolder(source: YamlSource, relative: string): string | undefined {
    const check = this.confinement.resolve(this.root, relative, "directory");
    if (!check.ok) {
      this.problems.push(source.problem(["images"], check.reason.replace("the image's folder", "the catalog's folder")));
      return undefined;
    }
    return check.path;
  }

  private image(
    catalogSource: YamlSource,
    settings: CatalogFile,
    scheme: TagScheme | undefined,
    name: string,
    directory: string,
  ): CatalogImage | undefined {
    const file = join(directory, IMAGE_FILE);
    if (!existsSync(file)) {
      this.problems.push(
        catalogSource.problem(["images"], `image folder ${displayPath(directory)} has no ${IMAGE_FILE} (every folder under images/ is an image)`),
      );
      return undefined;
    }
    const outside = this.outsideCatalog(directory);
    if (outside !== undefined) {
      this.problems.push(catalogSource.problem(["images"], `image folder ${displayPath(directory)} is a symlink that leads outside the catalog (to ${outside})`));
      return undefined;
    }
    const own = this.confinement.resolve(directory, IMAGE_FILE, "file");
    if (!own.ok) {
      this.problems.push(catalogSource.problem(["images"], `${displayPath(file)}: ${own.reason}`));
      return undefined;
    }
    const source = YamlSource.read(file);
    if (!IMAGE_NAME.test(name)) {
      this.problems.push(
        source.problem([], `image folder name "${name}" is not a valid image name (lowercase letters and digits, single . _ or - between them)`),
      );
    }
    const data = this.validate(source, imageFileSchema);
    if (data === undefined) return undefined;

    const context = this.path(source, directory, ["context"], data.context ?? ".", "directory");
    const defaultDockerfile = data.dockerfile ?? "Dockerfile";
    const versions: CatalogVersion[] = [];
    const seen = new Map<string, number>();
    data.versions.forEach((entry, index) => {
      const at = (...rest: PathSegment[]): PathSegment[] => ["versions", index, ...rest];
      const earlier = seen.get(entry.productVersion);
      if (earlier !== undefined) {
        this.problems.push(
          source.problem(
            at("productVersion"),
            `duplicate product version ${entry.productVersion} of ${name} (first at line ${source.problem(["versions", earlier], "").line}); one image version per product version`,
          ),
        );
        return;
      }
      seen.set(entry.productVersion, index);
      const version = this.version(source, settings, scheme, name, directory, context, defaultDockerfile, data, index);
      if (version !== undefined) versions.push(version);
    });
    versions.sort((a, b) => compareProductVersions(a.productVersion, b.productVersion));
    return {
      name,
      kind: data.kind,
      ...(data.description === undefined ? {} : { description: data.description }),
      directory,
      file,
      versions,
      byProductVersion: new Map(versions.map((v) => [v.productVersion, v])),
    };
  }

  private version(
    source: YamlSource,
    settings: CatalogFile,
    scheme: TagScheme | undefined,
    image: string,
    directory: string,
    context: string | undefined,
    defaultDockerfile: string,
    data: ImageFile,
    index: number,
  ): CatalogVersion | undefined {
    const entry = data.versions[index]!;
    const at = (...rest: PathSegment[]): PathSegment[] => ["versions", index, ...rest];
    const before = this.problems.length;
    let tag: string | undefined;

    const productVersion = this.productVersion(source, at("productVersion"), entry.productVersion);
    if (!isImageVersion(entry.imageVersion)) {
      this.problems.push(
        source.problem(at("imageVersion"), `expected an image version in SemVer (MAJOR.MINOR.PATCH, e.g. 0.1.0), got "${entry.imageVersion}"`),
      );
    } else if (scheme !== undefined && productVersion !== undefined) {
      try {
        tag = formatTag(scheme, { product: image, productVersion, imageVersion: entry.imageVersion });
      } catch (error) {
        if (!isImagewrightError(error)) throw error;
        this.problems.push(source.problem(at("productVersion"), `cannot form a registry tag: ${error.message}`));
      }
    }

    const dockerfile =
      entry.dockerfile === undefined
        ? this.path(source, directory, data.dockerfile === undefined ? at() : ["dockerfile"], defaultDockerfile, "file")
        : this.path(source, directory, at("dockerfile"), entry.dockerfile, "file");

    const dependencies: Dependency[] = [];
    for (const [dependencyImage, dependencyVersion] of Object.entries(entry.dependencies ?? {})) {
      const declared = at("dependencies", dependencyImage);
      // Places are worked out only when an error needs them: that needs the syntax tree.
      const dependency: Dependency = {
        image: dependencyImage,
        productVersion: dependencyVersion,
        place: () => source.place(declared, "key"),
      };
      dependencies.push(dependency);
      this.declarations.set(dependency, { source, path: declared });
    }

    const artifactTemplate = entry.artifact ?? data.artifact;
    const artifactPath = entry.artifact === undefined ? ["artifact"] : at("artifact");
    const artifact =
      artifactTemplate === undefined
        ? undefined
        : this.artifact(source, artifactPath, artifactTemplate, { productVersion: entry.productVersion, imageVersion: entry.imageVersion });

    if (this.problems.length > before || dockerfile === undefined || context === undefined || tag === undefined) return undefined;
    const testSuite = entry.testSuite ?? data.testSuite;
    const entryPath = at();
    return {
      image,
      productVersion: entry.productVersion,
      imageVersion: entry.imageVersion,
      tag,
      dockerfile,
      context,
      // Shared, not copied, when only one level sets any: build args are read-only.
      buildArgs:
        entry.buildArgs === undefined
          ? (data.buildArgs ?? NO_BUILD_ARGS)
          : data.buildArgs === undefined
            ? entry.buildArgs
            : { ...data.buildArgs, ...entry.buildArgs },
      dependencies,
      platforms: entry.platforms ?? data.platforms ?? settings.platforms,
      support: support(entry.support),
      testSuite,
      artifact,
      place: () => source.place(entryPath),
    };
  }

  private productVersion(source: YamlSource, path: PathSegment[], text: string): string | undefined {
    try {
      return parseProductVersion(text).text;
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      this.problems.push(source.problem(path, error.message + (error.hint === undefined ? "" : ` (${error.hint})`)));
      return undefined;
    }
  }

  private path(
    source: YamlSource,
    directory: string,
    path: PathSegment[],
    relative: string,
    expect: "file" | "directory",
  ): string | undefined {
    const check = this.confinement.resolve(directory, relative, expect);
    if (check.ok) return check.path;
    const what = expect === "file" ? "Dockerfile" : "build context";
    this.problems.push(source.problem(path, `${what} ${check.reason}`));
    return undefined;
  }

  /**
   * Fills in an artifact's URL templates. A template object (the image's, shared by its
   * versions, or a version's own) is checked once, with the first version's values:
   * product and image versions only hold letters, digits, `.`, `-` and `+`, which keep a
   * valid URL valid; and a bad template is reported once, not once per version.
   */
  private artifact(
    source: YamlSource,
    path: PathSegment[],
    template: { url: string; checksumUrl?: string | undefined },
    values: Record<"productVersion" | "imageVersion", string>,
  ): Artifact | undefined {
    let valid = this.checkedTemplates.get(template);
    if (valid === undefined) {
      const url = this.checkUrlTemplate(source, [...path, "url"], template.url, values);
      const checksum = template.checksumUrl === undefined || this.checkUrlTemplate(source, [...path, "checksumUrl"], template.checksumUrl, values);
      valid = url && checksum;
      this.checkedTemplates.set(template, valid);
    }
    if (!valid) return undefined;
    const fill = (text: string): string => text.replaceAll("{productVersion}", values.productVersion).replaceAll("{imageVersion}", values.imageVersion);
    return template.checksumUrl === undefined ? { url: fill(template.url) } : { url: fill(template.url), checksumUrl: fill(template.checksumUrl) };
  }

  private checkUrlTemplate(source: YamlSource, path: PathSegment[], template: string, values: Record<string, string>): boolean {
    let unknown: string | undefined;
    const url = template.replace(/\{([^}]*)\}/g, (whole, name: string) => {
      const value = values[name];
      if (value === undefined) unknown ??= whole;
      return value ?? whole;
    });
    if (unknown !== undefined) {
      this.problems.push(source.problem(path, `unknown placeholder ${unknown}; expected {productVersion} or {imageVersion}`));
      return false;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      this.problems.push(source.problem(path, `expected an absolute URL (https://…), got "${url}"`));
      return false;
    }
    if (!["http:", "https:", "file:"].includes(parsed.protocol)) {
      this.problems.push(source.problem(path, `expected an http, https or file URL, got ${parsed.protocol}`));
      return false;
    }
    return true;
  }

  /** Dependencies must name an image of the catalog and one of its product versions. */
  private checkDependencies(catalog: Catalog): void {
    for (const image of catalog.images) {
      for (const version of image.versions) {
        for (const dependency of version.dependencies) {
          const message = this.dependencyProblem(catalog, version, dependency);
          if (message === undefined) continue;
          const declared = this.declarations.get(dependency)!;
          this.problems.push(declared.source.problem(declared.path, message, "key"));
        }
      }
    }
  }

  /** What is wrong with one dependency, if anything. */
  private dependencyProblem(catalog: Catalog, version: CatalogVersion, dependency: Dependency): string | undefined {
    const who = `${version.image} ${version.productVersion}`;
    const target = catalog.byName.get(dependency.image);
    if (target === undefined) {
      return `${who} depends on unknown image "${dependency.image}" (the catalog has: ${catalog.images.map((i) => i.name).join(", ")})`;
    }
    const used = target.byProductVersion.get(dependency.productVersion);
    if (used === undefined) {
      const known = target.versions.map((v) => v.productVersion).join(", ");
      return `${who} depends on ${dependency.image} ${dependency.productVersion}, which the catalog does not have (${dependency.image} has: ${known})`;
    }
    // An image is built on its dependency for each of its platforms, so the dependency must exist for all of them.
    if (version.platforms === used.platforms || version.platforms.every((platform) => used.platforms.includes(platform))) return undefined;
    const missing = version.platforms.filter((platform) => !used.platforms.includes(platform));
    return `${who} is built for ${missing.join(", ")}, but its dependency ${dependency.image} ${dependency.productVersion} only for ${used.platforms.join(", ")}`;
  }

}

const SUPPORTED: Support = Object.freeze({ status: "supported" });
const NO_BUILD_ARGS: Readonly<Record<string, string>> = Object.freeze({});

function support(value: ImageFile["versions"][number]["support"]): Support {
  if (value === undefined) return SUPPORTED;
  if (typeof value === "string") return { status: value };
  return value.endOfLife === undefined ? { status: value.status } : { status: value.status, endOfLife: value.endOfLife };
}

/** Turns one zod issue into problems at the YAML node it is about. */
function issueProblems(source: YamlSource, data: unknown, issue: z.core.$ZodIssue, prefix: readonly PathSegment[]): CatalogProblem[] {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  if (issue.code !== "unrecognized_keys" && path.length > 0 && !source.has(path)) {
    return [source.problem(path, `missing required key "${String(path[path.length - 1])}" (${issue.message})`)];
  }
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const suggestion = closest(key, KNOWN_KEYS);
        return source.problem([...path, key], `unknown key "${key}"${suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`}`, "key");
      });
    case "invalid_key":
      return [source.problem(path, `invalid key "${String(path[path.length - 1])}": ${issue.issues[0]?.message ?? issue.message}`, "key")];
    case "invalid_union": {
      // Point inside an object the user clearly meant (the branch whose errors are deepest)
      // rather than just saying the whole value matched no alternative.
      const branch = issue.errors
        .filter((errors) => errors.length > 0 && errors.every((e) => e.path.length > 0))
        .sort((a, b) => a.length - b.length)[0];
      if (branch !== undefined && typeof valueAt(data, path) === "object") {
        return branch.flatMap((inner) => issueProblems(source, data, inner, path));
      }
      return [source.problem(path, issue.message)];
    }
    case "invalid_type": {
      const typed = source.typedScalar(path);
      if (issue.expected === "string" && typed !== undefined) {
        const read = typed.value === null ? "null" : `the ${typeof typed.value} ${String(typed.value)}`;
        return [source.problem(path, `${issue.message}; YAML reads ${typed.written} as ${read}: write it in quotes, "${typed.written}"`)];
      }
      return [source.problem(path, issue.message)];
    }
    default:
      return [source.problem(path, issue.message)];
  }
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** The known key nearest to a mistyped one (edit distance ≤ 2), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
