// Promotion: a voted release candidate becomes a release by copying it by digest
// (no rebuild, every platform, blobs mounted) and writing its release tags last.
// Released tags never move silently; a second run writes nothing.

import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { copy } from "../oci/index.ts";
import type { CopyEvent, Descriptor } from "../oci/index.ts";
import type { RegistryRepository } from "../registry/index.ts";
import { resolveFloatingTag } from "../versioning/index.ts";
import type { TagScheme } from "../versioning/index.ts";
import { attachRecord, candidateRecordOf, readRecords, releaseProblems } from "./record.ts";
import type { PromotionRecord } from "./record.ts";
import { tagsOf } from "./tags.ts";

export interface PromoteRequest {
  image: string;
  scheme: TagScheme;
  source: RegistryRepository;
  rcTag: string;
  destination: RegistryRepository;
  /** The release tag, then the floating tags that may follow it. */
  releaseTag: string;
  floatingTags: readonly string[];
  /** Replace a release tag that points at another digest; the reason is recorded. */
  force?: { reason: string };
  /** Promote although the candidate's tests or scan gate failed; the reason is recorded. */
  override?: { reason: string };
  dryRun?: boolean;
  now?: Date;
  onProgress?: (line: string) => void;
}

/** What happens to one tag: written new, already right, moved (a floating tag, or a forced release tag), or left alone. */
export type TagAction = "write" | "present" | "replace" | "keep";

export interface TagPlan {
  tag: string;
  kind: "release" | "floating";
  action: TagAction;
  /** The digest the tag pointed at before, when it existed. */
  before?: string;
  why: string;
}

export interface PromoteResult {
  image: string;
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  status: "promoted" | "already-promoted" | "dry-run";
  tags: TagPlan[];
  /** Problems of the candidate that --override let through. */
  overridden: string[];
  /** Manifests and tags written (0 on a second run). */
  writes: number;
  blobs: { copied: number; mounted: number; skipped: number; bytesCopied: number; bytesMounted: number };
  promotionRecord?: string;
}

async function tagDigest(store: RegistryRepository, tag: string): Promise<string | undefined> {
  try {
    return (await store.resolve(tag)).digest;
  } catch (error) {
    if (isImagewrightError(error) && error.kind === "not-found") return undefined;
    throw error;
  }
}

/** Promotes one image's candidate; see docs/RELEASING.md for the rules. */
export async function promote(request: PromoteRequest): Promise<PromoteResult> {
  const say = request.onProgress ?? ((): void => undefined);
  const { source, destination, image } = request;
  const sourceName = source.reference(request.rcTag);
  let subject: Descriptor;
  try {
    subject = await source.resolve(request.rcTag);
  } catch (error) {
    if (isImagewrightError(error)) throw error.during(`promoting ${image}: reading the candidate ${sourceName}`);
    throw error;
  }

  // The vote was on what the record says; a candidate that failed is not released by accident.
  const candidate = await candidateRecordOf(source, subject.digest);
  const problems = candidate === undefined ? [`${sourceName} has no release record (it was not made by \`imagewright release rc\`)`] : releaseProblems(candidate.record);

  const tags: TagPlan[] = [];
  const releaseBefore = await tagDigest(destination, request.releaseTag);
  if (releaseBefore === undefined) tags.push({ tag: request.releaseTag, kind: "release", action: "write", why: "new release tag" });
  else if (releaseBefore === subject.digest) tags.push({ tag: request.releaseTag, kind: "release", action: "present", before: releaseBefore, why: "already this digest" });
  else if (request.force !== undefined) tags.push({ tag: request.releaseTag, kind: "release", action: "replace", before: releaseBefore, why: `forced: ${request.force.reason}` });
  else {
    throw new ImagewrightError("conflict", `${destination.reference(request.releaseTag)} is already released as ${releaseBefore}, not the candidate's ${subject.digest}`, {
      input: destination.reference(request.releaseTag),
      hint: 'a released tag is never overwritten silently: cut a new image version (release bump), or use --force --reason "<why>" (recorded)',
    });
  }
  if (request.floatingTags.length > 0) {
    // A floating tag follows the newest release: it moves only when this release becomes the newest.
    const existing = [...(await tagsOf(destination)), request.releaseTag];
    for (const floating of request.floatingTags) {
      const newest = resolveFloatingTag(request.scheme, floating, existing);
      const before = await tagDigest(destination, floating);
      const plan: TagPlan = { tag: floating, kind: "floating", action: "keep", why: "" };
      if (before !== undefined) plan.before = before;
      if (newest !== undefined && newest.tag !== request.releaseTag) plan.why = `stays on the newer ${newest.tag}`;
      else if (before === subject.digest) Object.assign(plan, { action: "present", why: "already this digest" });
      else Object.assign(plan, { action: before === undefined ? "write" : "replace", why: `follows the newest release ${request.releaseTag}` });
      tags.push(plan);
    }
  }

  const result: PromoteResult = {
    image,
    source: `${sourceName}@${subject.digest}`,
    destination: destination.name,
    digest: subject.digest,
    mediaType: subject.mediaType,
    status: "dry-run",
    tags,
    overridden: request.override === undefined ? [] : problems,
    writes: 0,
    blobs: { copied: 0, mounted: 0, skipped: 0, bytesCopied: 0, bytesMounted: 0 },
  };
  const toWrite = tags.filter((t) => t.action === "write" || t.action === "replace");
  if (toWrite.length === 0) {
    say(`${image}: ${destination.name} already has ${tags.map((t) => t.tag).join(", ")} at ${subject.digest}: nothing to do`);
    return { ...result, status: "already-promoted" };
  }
  // After the no-op check, so rerunning a promotion that was overridden once stays a no-op.
  if (problems.length > 0 && request.override === undefined) {
    throw new ImagewrightError("failed", `${image}: refusing to promote ${sourceName}: ${problems.join("; ")}`, {
      input: sourceName,
      hint: 'promote it anyway only with --override --reason "<why>" (the reason is recorded)',
    });
  }
  if (request.dryRun === true) return result;

  // 1. The image itself, by digest and untagged: blobs (mounted where the registry can), children, index.
  say(`${image}: copying ${sourceName} (${subject.digest}) to ${destination.name}`);
  const copied = await copy(source, subject.digest, destination, subject.digest, { onProgress: (event) => reportCopy(event, image, say) });
  for (const blob of copied.blobs) result.blobs[blob.outcome]++;
  result.blobs.bytesCopied = copied.bytesCopied;
  result.blobs.bytesMounted = copied.bytesMounted;
  result.writes += copied.manifests.length;

  // 2. The candidate's record travels with it, so audits of the release read the vote's facts.
  const present = await readRecords(destination, subject.digest);
  if (candidate !== undefined && !present.some((r) => r.descriptor.digest === candidate.descriptor.digest)) {
    const moved = await copy(source, candidate.descriptor.digest, destination, candidate.descriptor.digest);
    result.writes += moved.manifests.length;
  }

  // 3. The promotion record (an earlier interrupted run's is reused, so a resumed run leaves one).
  const record: PromotionRecord = {
    kind: "imagewright/release-record",
    version: 1,
    type: "promotion",
    createdAt: (request.now ?? new Date()).toISOString(),
    image,
    digest: subject.digest,
    from: `${sourceName}@${subject.digest}`,
    tags: toWrite.map((t) => t.tag),
  };
  const replaced = toWrite.filter((t) => t.kind === "release" && t.action === "replace").map((t) => ({ tag: t.tag, digest: t.before! }));
  if (replaced.length > 0 && request.force !== undefined) record.forced = { reason: request.force.reason, replaced };
  if (problems.length > 0 && request.override !== undefined) record.overridden = { reason: request.override.reason, problems };
  const same = present.find((r) => r.record.type === "promotion" && r.record.from === record.from && sameFacts(r.record, record));
  if (same !== undefined) {
    result.promotionRecord = same.descriptor.digest;
  } else {
    result.promotionRecord = (await attachRecord(destination, subject, record)).digest;
    result.writes++;
  }

  // 4. Tags last: only now does anyone see the release.
  const stored = await source.getManifest(subject.digest);
  for (const plan of toWrite) {
    await destination.putManifest(stored.bytes, stored.descriptor.mediaType, plan.tag);
    result.writes++;
    say(`${image}: ${destination.reference(plan.tag)} → ${subject.digest}${plan.action === "replace" ? ` (was ${plan.before})` : ""}`);
  }
  return { ...result, status: "promoted" };
}

function sameFacts(a: PromotionRecord, b: PromotionRecord): boolean {
  return JSON.stringify([a.tags, a.forced, a.overridden]) === JSON.stringify([b.tags, b.forced, b.overridden]);
}

function reportCopy(event: CopyEvent, image: string, say: (line: string) => void): void {
  if (event.type === "plan") say(`${image}: ${event.manifests} manifest(s), ${event.blobs} blob(s), ${event.bytes} bytes`);
  else if (event.type === "note") say(`${image}: ${event.message}`);
}
