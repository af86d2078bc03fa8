// The Kafka images the tests run, built once per content and shared by every test
// file: the example catalog's kafka version and its local dependencies (java-base,
// debian-base), built with docker build (the engine's BuildKit) from the fixture
// release tarball served on loopback as the "RC tarball URL".

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { dependencyOf, dependencyOrder, loadCatalog, type Catalog, type CatalogVersion } from "../../src/catalog/index.ts";
import { kafkaFixture, serveFixture, type KafkaFixture, type ServedFixture } from "../support/kafka-fixture.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLE_CATALOG = join(ROOT, "examples/catalog");
/** This concern's port range (docs: one range per test concern); the fixture server takes the first free one. */
const PORTS = { first: 15500, last: 15549 };

async function docker(args: string[], input?: string): Promise<string> {
  const child = run("docker", args, { maxBuffer: 256 * 1024 * 1024, timeout: 20 * 60_000, env: { ...process.env, DOCKER_BUILDKIT: "1" } });
  if (input !== undefined) child.child.stdin?.end(input);
  else child.child.stdin?.end();
  return (await child).stdout;
}

async function imageId(ref: string): Promise<string | undefined> {
  try {
    return (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
  } catch {
    return undefined;
  }
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
}

/** A tag that changes whenever anything the build reads changes: context files, Dockerfile, arguments, base image ids. */
async function contentTag(version: CatalogVersion, buildArgs: Record<string, string>): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await filesUnder(version.context)) {
    hash.update(relative(version.context, file)).update("\0").update(await readFile(file)).update("\0");
  }
  hash.update(version.dockerfile).update(JSON.stringify(Object.entries(buildArgs).sort()));
  for (const value of Object.values(buildArgs)) {
    if (/^[\w.-]+(:\d+)?\/[\w./-]+:[\w.-]+$/.test(value)) hash.update((await imageId(value)) ?? value);
  }
  return `imagewright-test/${version.image}:${version.productVersion}-${hash.digest("hex").slice(0, 16)}`;
}

async function buildVersion(version: CatalogVersion, buildArgs: Record<string, string>): Promise<string> {
  const tag = await contentTag(version, buildArgs);
  if ((await imageId(tag)) !== undefined) return tag;
  const args = ["build", "--quiet", "--network", "host", "--file", version.dockerfile, "--tag", tag];
  for (const [key, value] of Object.entries(buildArgs)) args.push("--build-arg", `${key}=${value}`);
  await docker([...args, version.context]);
  return tag;
}

/** The base images the example catalog starts from (mmdebstrap'd locally by the stack). */
async function ensureUpstream(): Promise<void> {
  await run("bash", [join(ROOT, "stack/base-images.sh"), "bookworm"], { timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 });
}

export const dependencyArg = (name: string): string => `${name.toUpperCase().replace(/-/g, "_")}_IMAGE`;

export async function servePorts(directory: string): Promise<ServedFixture> {
  let lastError: unknown;
  for (let port = PORTS.first; port <= PORTS.last; port++) {
    try {
      return await serveFixture(directory, port);
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`no free port in ${PORTS.first}–${PORTS.last} for the fixture server`, { cause: lastError });
}

export interface BuiltKafkaImage {
  ref: string;
  version: string;
  fixture: KafkaFixture;
  /** Build arguments naming the local images it was built on, e.g. JAVA_BASE_IMAGE. */
  baseArgs: Record<string, string>;
}

const built = new Map<string, Promise<BuiltKafkaImage>>();

/**
 * The catalog's Kafka image for `version`, built from the fixture tarball (3.x verified
 * with the sha512sum-style checksum file, 4.x with Apache's gpg --print-md style, so
 * both formats pass a real build). Cached by content: a second call is one inspect.
 */
export function kafkaImage(version: string, catalog: Catalog = loadCatalog(EXAMPLE_CATALOG)): Promise<BuiltKafkaImage> {
  let pending = built.get(version);
  if (pending === undefined) {
    pending = buildKafka(version, catalog);
    built.set(version, pending);
  }
  return pending;
}

async function buildKafka(version: string, catalog: Catalog): Promise<BuiltKafkaImage> {
  const target = catalog.byName.get("kafka")?.byProductVersion.get(version);
  if (target === undefined) throw new Error(`the example catalog has no kafka ${version}`);
  const [fixture] = await Promise.all([kafkaFixture(version), ensureUpstream()]);
  const served = await servePorts(fixture.directory);
  try {
    const tags = new Map<CatalogVersion, string>();
    let baseArgs: Record<string, string> = {};
    const order = dependencyOrder(catalog, [target]);
    for (const { version: step } of order) {
      const args: Record<string, string> = { ...step.buildArgs, PRODUCT_VERSION: step.productVersion, IMAGE_VERSION: step.imageVersion };
      for (const dependency of step.dependencies) {
        const tag = tags.get(dependencyOf(catalog, dependency));
        if (tag === undefined) throw new Error(`${dependency.image} ${dependency.productVersion} was not built before ${step.image} ${step.productVersion}`);
        args[dependencyArg(dependency.image)] = tag;
      }
      if (step === target) {
        baseArgs = Object.fromEntries(step.dependencies.map((dependency) => [dependencyArg(dependency.image), args[dependencyArg(dependency.image)]!]));
        const checksum = version.startsWith("3.") ? fixture.sha512sum : fixture.sha512;
        args["ARTIFACT_URL"] = served.urlOf(`${fixture.name}.tgz`);
        args["ARTIFACT_CHECKSUM_URL"] = served.urlOf(checksum.slice(fixture.directory.length + 1));
      }
      tags.set(step, await buildVersion(step, args));
    }
    return { ref: tags.get(target)!, version, fixture, baseArgs };
  } finally {
    await served.close();
  }
}

/** An image that differs from `good` only by a wrong launch script: the broker is started on a config file that does not exist. */
export async function brokenKafkaImage(good: string): Promise<string> {
  const dockerfile = [
    `FROM ${good}`,
    "USER root",
    `RUN printf '%s\\n' '#!/usr/bin/env bash' 'exec /opt/kafka/bin/kafka-server-start.sh /etc/kafka/no-such.properties' > /opt/kafka/docker/launch`,
    "USER 1000:1000",
    "",
  ].join("\n");
  const tag = `imagewright-test/kafka-broken:${createHash("sha256").update(dockerfile).digest("hex").slice(0, 16)}`;
  if ((await imageId(tag)) === undefined) await docker(["build", "--quiet", "--tag", tag, "-"], dockerfile);
  return tag;
}
