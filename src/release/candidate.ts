// Cutting a release candidate: verify the RC tarball, build every image of the product
// version from it, push them to the evaluation repository under RC tags, run the sanity
// suite, scan, attach a release record to each image, and hand back the evaluation report.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { bakeBuild, imageSize, planBuild, resolveSourceDateEpoch } from "../build/index.ts";
import { repositoryOf } from "../catalog/index.ts";
import type { Catalog, CatalogImage, CatalogVersion } from "../catalog/index.ts";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { formatPlatform, isAttestation, parseManifest, parseRegistryReference } from "../oci/index.ts";
import type { Descriptor } from "../oci/index.ts";
import type { RegistryClient, RegistryRepository } from "../registry/index.ts";
import { scanImages, severityRank } from "../scan/index.ts";
import type { IgnoreEntry, ScannerName, ScannerSetup, Severity } from "../scan/index.ts";
import { runNamedSuite } from "../verify/index.ts";
import type { SuiteReport } from "../verify/index.ts";
import type { VerifiedArtifact } from "./artifact.ts";
import { verifyArtifact } from "./artifact.ts";
import { attachRecord, releaseProblems } from "./record.ts";
import type { CandidateRecord, ImageFacts, ScanFacts, TestFacts } from "./record.ts";
import { candidateTag, productImages, readCandidateTag, tagsOf } from "./tags.ts";

const run = promisify(execFile);

export interface CandidateRequest {
  catalog: Catalog;
  client: RegistryClient;
  product: string;
  productVersion: string;
  artifactUrl: string;
  checksumUrl?: string;
  /** The candidate number; default: one after the highest the evaluation repository has (1 when none). */
  rc?: number;
  /** Only these images of the product (default: all that have the product version). */
  images?: readonly string[];
  /** buildx builder (default: the stack's `imagewright`). */
  builder?: string;
  scan: { scanners: readonly ScannerName[]; setup: ScannerSetup; failOn: Severity | "none"; ignores?: readonly IgnoreEntry[] };
  /** Suite steps to run per image (all when absent), for images whose binary cannot do every step. */
  steps?: Readonly<Record<string, readonly string[]>>;
  now?: Date;
  onProgress?: (line: string) => void;
}

export interface CandidateImage {
  image: string;
  imageVersion: string;
  rcTag: string;
  facts: ImageFacts;
  tests: TestFacts;
  scan: ScanFacts;
  /** Digest of the release record attached to the image. */
  record: string;
  problems: string[];
  /** The suite's full report, for the JUnit and HTML files beside the evaluation report. */
  suite?: SuiteReport;
}

export interface EvaluationReport {
  kind: "imagewright/evaluation-report";
  version: 1;
  createdAt: string;
  product: string;
  productVersion: string;
  rc: number;
  inputs: CandidateRecord["inputs"] & { artifactSize: number };
  images: CandidateImage[];
  /** ready-for-vote when every image passed its suite and scan gate. */
  verdict: "ready-for-vote" | "not-releasable";
  durationMs: number;
}

/** `git rev-parse HEAD` of the catalog's checkout and whether it has uncommitted changes there. */
async function catalogRevision(root: string): Promise<{ revision: string; dirty: boolean }> {
  try {
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: root })).stdout.trim();
    const status = (await run("git", ["status", "--porcelain", "--", "."], { cwd: root })).stdout.trim();
    return { revision: head, dirty: status !== "" };
  } catch {
    return { revision: "unknown (not a git checkout)", dirty: true };
  }
}

/** The candidate number to cut: the one asked for (refused when taken), else the next free one. */
async function chooseRc(request: CandidateRequest, images: readonly CatalogImage[], stores: Map<string, RegistryRepository>): Promise<number> {
  const scheme = request.catalog.tagScheme;
  let highest = 0;
  const taken = new Map<number, string>();
  for (const image of images) {
    const version = image.byProductVersion.get(request.productVersion)!;
    const store = stores.get(image.name)!;
    for (const tag of await tagsOf(store)) {
      const reading = readCandidateTag(scheme, tag);
      if (reading === undefined || reading.release.productVersion !== request.productVersion) continue;
      if (reading.release.imageVersion !== undefined && reading.release.imageVersion !== version.imageVersion) continue;
      highest = Math.max(highest, reading.rc);
      taken.set(reading.rc, store.reference(tag));
    }
  }
  if (request.rc === undefined) return highest + 1;
  const existing = taken.get(request.rc);
  if (existing !== undefined) {
    throw new ImagewrightError("conflict", `release candidate ${request.rc} already exists: ${existing}`, {
      input: `--rc ${request.rc}`,
      hint: `a candidate is never rebuilt under the same tag: cut --rc ${highest + 1}`,
    });
  }
  return request.rc;
}

/**
 * Images the catalog's own build arguments name (`GRAALVM_IMAGE` for kafka-native) must
 * exist before minutes of building start: a candidate is all of its images or none.
 */
async function requireBuilderImages(client: RegistryClient, versions: readonly CatalogVersion[]): Promise<void> {
  for (const version of versions) {
    for (const [name, value] of Object.entries(version.buildArgs)) {
      if (!name.endsWith("_IMAGE")) continue;
      const reference = parseRegistryReference(value);
      try {
        await client.repository(reference.registry, reference.repository).resolve(reference.digest ?? reference.tag ?? "latest");
      } catch (error) {
        if (!(isImagewrightError(error) && error.kind === "not-found")) throw error;
        throw new ImagewrightError("unavailable", `${version.image} ${version.productVersion} is built with ${name}=${value}, which the registry does not have`, {
          input: `build argument ${name} of ${version.image} ${version.productVersion}`,
          place: version.place(),
          hint: `push that image first (docs/kafka.md), or leave ${version.image} out of this candidate with --image <each other image>`,
        });
      }
    }
  }
}

/** Digest, size and platforms of what the registry holds at `descriptor`. */
async function imageFacts(store: RegistryRepository, image: string, tag: string, descriptor: Descriptor): Promise<ImageFacts> {
  const stored = await store.getManifest(descriptor.digest);
  const parsed = parseManifest(stored.bytes, store.reference(descriptor.digest), stored.descriptor.mediaType);
  const platforms: ImageFacts["platforms"] = [];
  if (parsed.kind === "index") {
    for (const entry of parsed.index.manifests) {
      if (isAttestation(entry) || entry.platform === undefined) continue;
      platforms.push({ platform: formatPlatform(entry.platform), digest: entry.digest, size: await imageSize(store, entry) });
    }
  } else {
    const config = JSON.parse(Buffer.from(await readBlob(store, parsed.manifest.config)).toString("utf8")) as { os?: string; architecture?: string; variant?: string };
    platforms.push({ platform: formatPlatform({ os: config.os ?? "unknown", architecture: config.architecture ?? "unknown", ...(config.variant === undefined ? {} : { variant: config.variant }) }), digest: descriptor.digest, size: await imageSize(store, descriptor) });
  }
  return { image, reference: store.reference(tag), digest: descriptor.digest, mediaType: stored.descriptor.mediaType, size: await imageSize(store, descriptor), platforms };
}

async function readBlob(store: RegistryRepository, descriptor: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(descriptor)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function testFacts(report: SuiteReport): TestFacts {
  return {
    suite: report.suite,
    status: report.passed ? "passed" : "failed",
    counts: report.counts,
    steps: report.steps.map((s) => ({ id: s.id, title: s.title, status: s.status, durationMs: s.durationMs, ...(s.reason === undefined ? {} : { reason: s.reason }) })),
    durationMs: report.durationMs,
  };
}

/** Cuts the candidate; see docs/RELEASING.md. Images are pushed and recorded even when their checks fail: the report says so. */
export async function cutCandidate(request: CandidateRequest): Promise<EvaluationReport> {
  const started = performance.now();
  const say = request.onProgress ?? ((): void => undefined);
  const { catalog, client } = request;
  const images = productImages(catalog, request.product, request.productVersion, request.images ?? []);
  const stores = new Map(images.map((image) => {
    const name = repositoryOf(catalog.evaluation, image.name);
    const slash = name.indexOf("/");
    return [image.name, client.repository(name.slice(0, slash), name.slice(slash + 1))] as const;
  }));
  const rc = await chooseRc(request, images, stores);
  const tags = new Map(images.map((image) => [image.name, candidateTag(catalog.tagScheme, image.byProductVersion.get(request.productVersion)!, rc)]));
  say(`release candidate ${rc} of ${request.product} ${request.productVersion}: ${images.map((i) => `${stores.get(i.name)!.reference(tags.get(i.name)!)}`).join(", ")}`);

  await requireBuilderImages(client, images.map((image) => image.byProductVersion.get(request.productVersion)!));
  say(`verifying ${request.artifactUrl}`);
  let artifact: VerifiedArtifact;
  try {
    artifact = await verifyArtifact(request.artifactUrl, request.checksumUrl);
  } catch (error) {
    if (isImagewrightError(error)) throw error.during("verifying the release artifact");
    throw error;
  }
  say(`sha512 ${artifact.sha512.slice(0, 32)}… matches ${artifact.checksumUrl} (${artifact.size} bytes)`);
  const revision = await catalogRevision(catalog.root);

  // The catalog's plan, with the requested images tagged as candidates in the evaluation repository.
  const plan = planBuild(catalog, { kind: "selection", selections: images.map((image) => `${image.name}=${request.productVersion}`) });
  for (const target of plan.targets) {
    const tag = tags.get(target.image);
    if (target.reason !== "requested" || tag === undefined) continue;
    target.rc = rc;
    target.tags = [tag];
    target.references = [stores.get(target.image)!.reference(tag)];
  }
  const built = await bakeBuild({
    plan,
    client,
    vendor: catalog.vendor,
    sourceDateEpoch: await resolveSourceDateEpoch(undefined, { cwd: catalog.root }),
    ...(revision.revision.startsWith("unknown") ? {} : { revision: revision.revision }),
    buildArgs: { ARTIFACT_URL: artifact.url, ARTIFACT_CHECKSUM_URL: artifact.checksumUrl },
    push: true,
    bake: { builder: request.builder ?? "imagewright" },
    onProgress: say,
  });

  const results: CandidateImage[] = [];
  for (const image of images) {
    const version = image.byProductVersion.get(request.productVersion)!;
    const store = stores.get(image.name)!;
    const tag = tags.get(image.name)!;
    const target = built.targets.find((t) => t.image === image.name && t.productVersion === request.productVersion);
    // The registry, not the build's summary, says what was pushed: that is what the vote and the record are about.
    const descriptor = await store.resolve(tag);
    if (target?.digest !== undefined && target.digest !== descriptor.digest) {
      throw new ImagewrightError("failed", `${store.reference(tag)} is ${descriptor.digest}, but the build pushed ${target.digest}`, { input: store.reference(tag), hint: "something else pushed this tag at the same time" });
    }
    const facts = await imageFacts(store, image.name, tag, descriptor);
    const pinned = `${store.name}@${descriptor.digest}`;

    let suite: SuiteReport | undefined;
    let tests: TestFacts;
    if (version.testSuite === undefined) {
      tests = { suite: "none", status: "not-run", counts: { passed: 0, failed: 0, skipped: 0 }, steps: [], durationMs: 0 };
      say(`${image.name}: the catalog names no test suite`);
    } else {
      say(`${image.name}: ${version.testSuite} suite on ${pinned}`);
      const only = request.steps?.[image.name];
      suite = await runNamedSuite(version.testSuite, pinned, {}, {
        ...(only === undefined ? {} : { only }),
        onStepEnd: (step) => say(`${image.name}:   ${step.status.padEnd(7)} ${step.id} (${(step.durationMs / 1000).toFixed(1)} s)${step.status === "failed" ? `: ${step.reason ?? ""}` : ""}`),
      });
      tests = testFacts(suite);
    }

    say(`${image.name}: scanning with ${request.scan.scanners.join(", ")}`);
    const scanned = await scanImages([{ reference: pinned }], {
      scanners: request.scan.scanners,
      setup: request.scan.setup,
      failOn: request.scan.failOn,
      ignores: request.scan.ignores ?? [],
      state: undefined,
      sbom: false,
      client,
      progress: (line) => say(`${image.name}: ${line}`),
    });
    const counts: Record<string, number> = {};
    const ignored: ScanFacts["ignored"] = [];
    for (const scan of scanned.images) {
      for (const finding of scan.findings) {
        if (finding.ignored === undefined) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
        else ignored.push({ id: finding.id, package: finding.package.name, severity: finding.severity, reason: finding.ignored.reason });
      }
    }
    const scan: ScanFacts = {
      gate: scanned.gate.outcome,
      failOn: request.scan.failOn,
      scanners: [...request.scan.scanners],
      counts: Object.fromEntries(Object.entries(counts).sort((a, b) => severityRank(b[0] as Severity) - severityRank(a[0] as Severity))),
      ignored,
      reasons: scanned.gate.reasons,
    };
    say(`${image.name}: scan gate ${scan.gate}`);

    const record: CandidateRecord = {
      kind: "imagewright/release-record",
      version: 1,
      type: "candidate",
      createdAt: (request.now ?? new Date()).toISOString(),
      product: request.product,
      productVersion: request.productVersion,
      imageVersion: version.imageVersion,
      rc,
      rcTag: tag,
      image: facts,
      tests,
      scan,
      inputs: { artifactUrl: artifact.url, checksumUrl: artifact.checksumUrl, sha512: artifact.sha512, catalogRevision: revision.revision, catalogDirty: revision.dirty },
    };
    const attached = await attachRecord(store, descriptor, record);
    say(`${image.name}: release record ${attached.digest} attached to ${pinned}`);
    results.push({ image: image.name, imageVersion: version.imageVersion, rcTag: tag, facts, tests, scan, record: attached.digest, problems: releaseProblems(record), ...(suite === undefined ? {} : { suite }) });
  }
  return {
    kind: "imagewright/evaluation-report",
    version: 1,
    createdAt: (request.now ?? new Date()).toISOString(),
    product: request.product,
    productVersion: request.productVersion,
    rc,
    inputs: { artifactUrl: artifact.url, checksumUrl: artifact.checksumUrl, sha512: artifact.sha512, catalogRevision: revision.revision, catalogDirty: revision.dirty, artifactSize: artifact.size },
    images: results,
    verdict: results.every((r) => r.problems.length === 0) ? "ready-for-vote" : "not-releasable",
    durationMs: Math.round(performance.now() - started),
  };
}
