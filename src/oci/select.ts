// Choosing platforms from a multi-platform index. Keeping every entry keeps
// the index's bytes and digest; keeping some makes a NEW index whose digest
// differs, and the selection says so and lists what it dropped and why.

import { ImagewrightError } from "../errors/index.ts";
import { attestedDigest, isAttestation, manifestBytes } from "./manifest.ts";
import type { Descriptor, ImageIndex, Platform } from "./model.ts";
import { formatPlatform, platformMatches } from "./platform.ts";

export interface PlatformSelection {
  /** The index to write: the original bytes when nothing was dropped. */
  index: ImageIndex;
  bytes: Uint8Array;
  /** True when entries were dropped, so the index (and its digest) is new. */
  changed: boolean;
  kept: Descriptor[];
  dropped: { descriptor: Descriptor; reason: string }[];
}

/** How an index entry is named in messages: its platform, or what it is. */
export function describeEntry(entry: Descriptor): string {
  if (isAttestation(entry)) return `attestation for ${attestedDigest(entry)?.slice(0, 19) ?? "?"}`;
  return entry.platform ? formatPlatform(entry.platform) : entry.digest.slice(0, 19);
}

/**
 * Keeps the image entries whose platform matches one of `wanted` (all when
 * `wanted` is empty). Attestation entries (platform unknown/unknown with
 * `vnd.docker.reference.type: attestation-manifest`) follow the image they
 * describe: kept with it, dropped with it, so provenance is never orphaned nor
 * lost for an image that stays. Every wanted platform must match something.
 */
export function selectPlatforms(index: ImageIndex, bytes: Uint8Array, wanted: readonly Platform[], input: string): PlatformSelection {
  if (wanted.length === 0) return { index, bytes, changed: false, kept: [...index.manifests], dropped: [] };
  const images = index.manifests.filter((entry) => !isAttestation(entry));
  for (const platform of wanted) {
    if (!images.some((entry) => entry.platform !== undefined && platformMatches(platform, entry.platform))) {
      const available = images.map(describeEntry).join(", ");
      throw new ImagewrightError("not-found", `${input} has no image for platform ${formatPlatform(platform)}`, { input, hint: `it has: ${available || "no platform images"}` });
    }
  }
  const keptImages = new Set(images.filter((entry) => entry.platform !== undefined && wanted.some((p) => platformMatches(p, entry.platform!))).map((e) => e.digest));
  const kept: Descriptor[] = [];
  const dropped: PlatformSelection["dropped"] = [];
  for (const entry of index.manifests) {
    if (isAttestation(entry)) {
      const subject = attestedDigest(entry);
      if (subject !== undefined && keptImages.has(subject)) kept.push(entry);
      else dropped.push({ descriptor: entry, reason: "it attests an image that was not selected" });
    } else if (keptImages.has(entry.digest)) {
      kept.push(entry);
    } else {
      dropped.push({ descriptor: entry, reason: entry.platform ? "platform not selected" : "entry has no platform" });
    }
  }
  if (dropped.length === 0) return { index, bytes, changed: false, kept, dropped };
  const selected: ImageIndex = { ...index, manifests: kept };
  return { index: selected, bytes: manifestBytes(selected), changed: true, kept, dropped };
}
