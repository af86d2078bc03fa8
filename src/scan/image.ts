// The image a scan looks at: copied from wherever it lives (registry, OCI layout,
// docker archive) into one docker archive that every scanner reads without a
// daemon or network, with its layers' digests and diffIDs for attribution.

import { join } from "node:path";
import { copy, hostPlatform, openLocation, parseConfig, parseManifest, referenceName } from "../oci/index.ts";
import type { Platform } from "../oci/index.ts";
import type { RegistryClient } from "../registry/index.ts";

export interface ScanTarget {
  /** What the user named. */
  reference: string;
  /** The image manifest's digest (of the platform scanned). */
  digest: string;
  /** The digest `reference` resolved to (an index's, for multi-platform images). */
  resolvedDigest: string;
  platform: string;
  /** docker archive (`docker save` layout) holding just this image. */
  archive: string;
  /** Layer i: compressed digest (as in the registry) and diffID (as in the config). */
  layers: { digest: string; diffId: string }[];
}

export async function exportImage(reference: string, directory: string, client: RegistryClient, platform: Platform = hostPlatform()): Promise<ScanTarget> {
  const source = await openLocation(reference, { client });
  const archive = join(directory, "image.tar");
  const destination = await openLocation(`docker-archive:${archive}`, { client, forWriting: true });
  const result = await copy(source.store, source.reference, destination.store, destination.reference, { platforms: [platform] });
  // The archive is complete once copy commits it; read it back as the scanners will.
  const written = await openLocation(`docker-archive:${archive}`, { client });
  const stored = await written.store.getManifest(result.descriptor.digest);
  const name = referenceName(written.store, result.descriptor.digest);
  const parsed = parseManifest(stored.bytes, name, stored.descriptor.mediaType);
  const layers: ScanTarget["layers"] = [];
  if (parsed.kind === "image") {
    const configBytes = await readAll(await written.store.getBlob(parsed.manifest.config));
    const config = parseConfig(configBytes, name);
    const diffIds = config.rootfs?.diff_ids ?? [];
    parsed.manifest.layers.forEach((layer, i) => layers.push({ digest: layer.digest, diffId: diffIds[i] ?? "" }));
  }
  return {
    reference,
    digest: result.descriptor.digest,
    resolvedDigest: result.sourceDescriptor.digest,
    platform: `${platform.os}/${platform.architecture}`,
    archive,
    layers,
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
