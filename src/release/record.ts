// The release record: the facts of a release candidate (and of each promotion) as
// an OCI artifact whose subject is the image, found again through the referrers API.

import { Readable } from "node:stream";
import { z } from "zod";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { digestOf, MediaTypes, parseManifest } from "../oci/index.ts";
import type { Descriptor, ImageManifest, ImageStore } from "../oci/index.ts";
import type { RegistryRepository } from "../registry/index.ts";

/** The artifact type of release records; audits list them with `referrers --artifact-type`. */
export const RECORD_ARTIFACT_TYPE = "application/vnd.imagewright.release-record.v1+json";
/** The OCI 1.1 empty config every artifact without a config of its own points at. */
const EMPTY_CONFIG: Descriptor = {
  mediaType: MediaTypes.ociEmpty,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
};
const RECORD_LIMIT = 4 * 1024 * 1024;

const platformImage = z.object({ platform: z.string(), digest: z.string(), size: z.number() });

const imageFacts = z.object({
  image: z.string(),
  reference: z.string(),
  digest: z.string(),
  mediaType: z.string(),
  size: z.number(),
  platforms: z.array(platformImage),
});

const testFacts = z.object({
  suite: z.string(),
  status: z.enum(["passed", "failed", "not-run"]),
  counts: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }),
  steps: z.array(z.object({ id: z.string(), title: z.string(), status: z.string(), durationMs: z.number(), reason: z.string().optional() })),
  durationMs: z.number(),
});

const scanFacts = z.object({
  gate: z.enum(["passed", "failed", "unavailable"]),
  failOn: z.string(),
  scanners: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
  /** Findings an ignore file accepted (id, package, its reason): they stay visible to the voters. */
  ignored: z.array(z.object({ id: z.string(), package: z.string(), severity: z.string(), reason: z.string() })).default([]),
  reasons: z.array(z.string()),
});

const candidateRecord = z.object({
  kind: z.literal("imagewright/release-record"),
  version: z.literal(1),
  type: z.literal("candidate"),
  createdAt: z.string(),
  product: z.string(),
  productVersion: z.string(),
  imageVersion: z.string().optional(),
  rc: z.number(),
  rcTag: z.string(),
  image: imageFacts,
  tests: testFacts,
  scan: scanFacts,
  inputs: z.object({
    artifactUrl: z.string(),
    checksumUrl: z.string(),
    sha512: z.string(),
    catalogRevision: z.string(),
    catalogDirty: z.boolean(),
  }),
});

const promotionRecord = z.object({
  kind: z.literal("imagewright/release-record"),
  version: z.literal(1),
  type: z.literal("promotion"),
  createdAt: z.string(),
  image: z.string(),
  digest: z.string(),
  from: z.string(),
  tags: z.array(z.string()),
  /** Set when --force replaced a release tag: what it pointed at and why it was allowed. */
  forced: z.object({ reason: z.string(), replaced: z.array(z.object({ tag: z.string(), digest: z.string() })) }).optional(),
  /** Set when --override promoted a candidate whose tests or scan gate failed. */
  overridden: z.object({ reason: z.string(), problems: z.array(z.string()) }).optional(),
});

const releaseRecord = z.discriminatedUnion("type", [candidateRecord, promotionRecord]);

export type CandidateRecord = z.infer<typeof candidateRecord>;
export type PromotionRecord = z.infer<typeof promotionRecord>;
export type ReleaseRecord = z.infer<typeof releaseRecord>;
export type ImageFacts = z.infer<typeof imageFacts>;
export type TestFacts = z.infer<typeof testFacts>;
export type ScanFacts = z.infer<typeof scanFacts>;

/** The artifact manifest that carries `record` with `subject` as its subject, and the record's bytes. */
export function recordArtifact(record: ReleaseRecord, subject: Descriptor): { manifest: Uint8Array; layer: Uint8Array; layerDescriptor: Descriptor } {
  const layer = Buffer.from(JSON.stringify(record, null, 2) + "\n");
  const layerDescriptor: Descriptor = { mediaType: RECORD_ARTIFACT_TYPE, digest: digestOf(layer), size: layer.byteLength, annotations: { "org.opencontainers.image.title": "release-record.json" } };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    artifactType: RECORD_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [layerDescriptor],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { "org.opencontainers.image.created": record.createdAt, "io.imagewright.release-record.type": record.type },
  };
  return { manifest: Buffer.from(JSON.stringify(manifest)), layer, layerDescriptor };
}

/** Pushes `record` as an artifact referring to `subject` (blobs first, the manifest last). Returns its descriptor. */
export async function attachRecord(store: ImageStore, subject: Descriptor, record: ReleaseRecord): Promise<Descriptor> {
  const { manifest, layer, layerDescriptor } = recordArtifact(record, subject);
  if (!(await store.hasBlob(EMPTY_CONFIG))) await store.putBlob(EMPTY_CONFIG, Readable.from([Buffer.from("{}")]));
  if (!(await store.hasBlob(layerDescriptor))) await store.putBlob(layerDescriptor, Readable.from([layer]));
  return store.putManifest(manifest, MediaTypes.ociManifest);
}

export interface StoredRecord {
  /** The artifact manifest's descriptor. */
  descriptor: Descriptor;
  record: ReleaseRecord;
}

/** Every release record that refers to `digest` in `store`, oldest first. Malformed records are invalid input. */
export async function readRecords(store: RegistryRepository, digest: string): Promise<StoredRecord[]> {
  const referrers = await store.referrers(digest, RECORD_ARTIFACT_TYPE);
  const records: StoredRecord[] = [];
  for (const referrer of referrers) {
    const input = `release record ${store.name}@${referrer.digest}`;
    const stored = await store.getManifest(referrer.digest);
    const parsed = parseManifest(stored.bytes, input, stored.descriptor.mediaType);
    if (parsed.kind !== "image" || parsed.manifest.layers.length !== 1 || parsed.manifest.layers[0]!.mediaType !== RECORD_ARTIFACT_TYPE) {
      throw new ImagewrightError("invalid-input", `${input} does not hold one ${RECORD_ARTIFACT_TYPE} layer`, { input, place: "$.layers" });
    }
    const layer = parsed.manifest.layers[0]!;
    if (layer.size > RECORD_LIMIT) throw new ImagewrightError("invalid-input", `${input} is ${layer.size} bytes, more than a record may be`, { input, place: "$.layers[0].size" });
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getBlob(layer)) chunks.push(chunk as Buffer);
    records.push({ descriptor: stored.descriptor, record: parseRecord(Buffer.concat(chunks).toString("utf8"), input) });
  }
  return records.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
}

/** Reads a record's JSON, naming the field that is wrong. */
export function parseRecord(text: string, input: string): ReleaseRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const position = /position (\d+)/.exec(cause instanceof Error ? cause.message : "")?.[1];
    throw new ImagewrightError("invalid-input", `${input} is not JSON`, { input, place: position === undefined ? "end of input" : `byte ${position}`, cause });
  }
  const result = releaseRecord.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const place = issue === undefined ? "$" : "$" + issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    throw new ImagewrightError("invalid-input", `${input} is not a release record: ${issue?.message ?? "invalid"}`, { input, place });
  }
  return result.data;
}

/** The newest candidate record of an image, or undefined when it has none (it was not made by `release rc`). */
export async function candidateRecordOf(store: RegistryRepository, digest: string): Promise<{ descriptor: Descriptor; record: CandidateRecord } | undefined> {
  let records: StoredRecord[];
  try {
    records = await readRecords(store, digest);
  } catch (error) {
    if (isImagewrightError(error)) throw error.during(`reading the release record of ${store.name}@${digest}`);
    throw error;
  }
  const candidates = records.filter((r): r is { descriptor: Descriptor; record: CandidateRecord } => r.record.type === "candidate");
  return candidates.at(-1);
}

/** What stands between a candidate and its release, in words; empty when nothing does. */
export function releaseProblems(record: CandidateRecord): string[] {
  const problems: string[] = [];
  if (record.tests.status === "not-run") problems.push("no test suite ran (the catalog names none for this image)");
  else if (record.tests.status !== "passed") {
    const failed = record.tests.steps.filter((s) => s.status === "failed").map((s) => s.id);
    problems.push(`the ${record.tests.suite} suite failed (${failed.join(", ") || `${record.tests.counts.failed} step(s)`})`);
  }
  if (record.scan.gate !== "passed") problems.push(`the scan gate is ${record.scan.gate}${record.scan.reasons.length > 0 ? `: ${record.scan.reasons.join("; ")}` : ""}`);
  return problems;
}
