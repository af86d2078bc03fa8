// The daemonless assembler: base image (any ImageStore, or scratch) + layers
// from host files + config changes → a new image or multi-platform index in any
// ImageStore, reproducibly and without downloading base layers the target has.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { ImagewrightError } from "../errors/index.ts";
import { isAttestation, manifestBytes, parseConfig, parseJsonDocument, parseManifest } from "../oci/manifest.ts";
import { MediaTypes } from "../oci/model.ts";
import type { Descriptor, ImageIndex, ImageManifest, ImageStore, Platform } from "../oci/model.ts";
import { formatPlatform, platformMatches } from "../oci/platform.ts";
import { sha256 } from "../oci/digest.ts";
import { buildLayer, type LayerOptions, type LayerSource, type SpooledLayer } from "./layer.ts";

/** An image to start from: a manifest or index in some store. */
export interface BaseImage {
  store: ImageStore;
  /** Tag or digest inside the store. */
  reference: string;
  /** How to name it in annotations and messages, e.g. `127.0.0.1:5000/imagewright/debian:bookworm`. */
  name: string;
}

/** Where one platform (or, without a platform, every platform of the base) starts. */
export interface BaseSelection {
  base: BaseImage | "scratch";
  platform?: Platform;
}

export interface PlatformLayer extends LayerSource {
  /** Only for this platform; without it the layer goes into every platform's image. */
  platform?: Platform;
}

/** Changes to the image config, with Dockerfile semantics where Docker has them. */
export interface ConfigChanges {
  /** Setting the entrypoint clears an inherited cmd unless `cmd` is set too, as ENTRYPOINT does. */
  entrypoint?: string[];
  cmd?: string[];
  /** `KEY=value`; replaces an inherited KEY, appends otherwise. */
  env?: string[];
  user?: string;
  workdir?: string;
  /** `8080`, `8080/tcp`, `53/udp`. */
  exposedPorts?: string[];
  volumes?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
}

export interface AssembleRequest extends LayerOptions {
  bases: BaseSelection[];
  layers: PlatformLayer[];
  config?: ConfigChanges;
  /** Only these platforms of a multi-platform base. */
  platforms?: Platform[];
  /** Manifest annotations (and index annotations when an index is written). */
  annotations?: Record<string, string>;
  /** Write an index even for one platform. */
  index?: boolean;
  target: ImageStore;
  /** Tag to point at the result; without it the result is stored by digest only. */
  tag?: string;
  /** Where layers are spooled before upload (a fresh directory inside it, removed afterwards). */
  spoolDirectory?: string;
  onProgress?: (message: string) => void;
}

export interface AssembledLayer {
  source: string;
  destination: string;
  platform?: string;
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
  entries: number;
}

export interface AssembledPlatform {
  platform: string;
  manifest: Descriptor;
  config: string;
  base: string;
  baseDigest?: string;
  layers: number;
}

export interface BlobTraffic {
  /** Blobs the target already had (HEAD said yes). */
  present: number;
  /** Base blobs made available by a cross-repository mount. */
  mounted: number;
  /** Blobs whose bytes were sent to the target. */
  uploaded: number;
  uploadedBytes: number;
  /** Bytes of base blobs that had to be read from the base's store (neither present nor mountable). */
  baseBytesRead: number;
}

export interface AssembleResult {
  target: string;
  tag?: string;
  descriptor: Descriptor;
  platforms: AssembledPlatform[];
  layers: AssembledLayer[];
  traffic: BlobTraffic;
  durationMs: number;
}

interface Variant {
  platform: Platform;
  base: BaseImage | "scratch";
  baseDescriptor?: Descriptor;
  baseManifest?: ImageManifest;
  /** The base config as raw JSON, so fields imagewright does not know survive unchanged. */
  baseConfig: Record<string, unknown>;
  docker: boolean;
}

/** Assembles and writes the image; the result names what was written and what moved. */
export async function assemble(request: AssembleRequest): Promise<AssembleResult> {
  const started = performance.now();
  const say = request.onProgress ?? ((): void => undefined);
  if (request.bases.length === 0) {
    throw new ImagewrightError("usage", "an assembly needs a base image (or scratch)", { input: "base" });
  }
  const variants = await resolveVariants(request);
  const spool = await mkdtemp(path.join(request.spoolDirectory ?? tmpdir(), "imagewright-assemble-"));
  // Blob transfers run beside the layer builds: base layers (skip, mount or copy) from the
  // start, each new layer as soon as it is spooled. The spool outlives every upload.
  const traffic: BlobTraffic = { present: 0, mounted: 0, uploaded: 0, uploadedBytes: 0, baseBytesRead: 0 };
  const transferred = new Set<string>();
  const transfers: Promise<void>[] = [];
  const track = (transfer: Promise<void>): void => {
    // Awaited together later; a failure before then must not count as unhandled.
    transfer.catch(() => undefined);
    transfers.push(transfer);
  };
  try {
    let baseBlobs = Promise.resolve();
    for (const variant of variants) {
      const base = variant.base;
      if (base === "scratch") continue;
      for (const baseLayer of variant.baseManifest?.layers ?? []) {
        if (transferred.has(baseLayer.digest)) continue;
        transferred.add(baseLayer.digest);
        baseBlobs = baseBlobs.then(() => ensureBaseBlob(request.target, base, baseLayer, traffic, say));
      }
    }
    track(baseBlobs);
    const built = await buildLayers(request, variants, spool, say, (layer) => {
      const descriptor = layer.spooled.descriptor;
      if (transferred.has(descriptor.digest)) return;
      transferred.add(descriptor.digest);
      track(putIfMissing(request.target, descriptor, () => layer.spooled.open(), traffic));
    });
    await Promise.all(transfers);
    const written: { variant: Variant; descriptor: Descriptor; configDigest: string; layers: number }[] = [];
    const single = variants.length === 1 && request.index !== true;
    for (const variant of variants) {
      const layers = layersFor(request.layers, variant.platform).map((layer) => built.get(layerKey(layer))!);
      say(`${formatPlatform(variant.platform)}: ${variant.baseManifest?.layers.length ?? 0} base layer(s), ${layers.length} new`);
      // The same bytes serve both formats; only the descriptor's media type follows the base's.
      const layerMediaType = variant.docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip;
      const newLayers = layers.map((layer) => ({ ...layer.spooled.descriptor, mediaType: layerMediaType }));
      const config = configFor(variant, layers, request);
      const configBytes = new TextEncoder().encode(JSON.stringify(config));
      const configDescriptor: Descriptor = {
        mediaType: variant.docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig,
        digest: sha256(configBytes),
        size: configBytes.byteLength,
      };
      await putIfMissing(request.target, configDescriptor, () => readableOf(configBytes), traffic);
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: variant.docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
        config: configDescriptor,
        layers: [...(variant.baseManifest?.layers ?? []), ...newLayers],
      };
      // Docker's schema 2 has no annotations; OCI manifests say where they came from.
      const annotations = variant.docker ? {} : manifestAnnotations(variant, request);
      if (Object.keys(annotations).length > 0) manifest.annotations = annotations;
      const bytes = manifestBytes(manifest);
      const descriptor = await request.target.putManifest(bytes, manifest.mediaType!, single ? request.tag : undefined);
      written.push({ variant, descriptor: { ...descriptor, platform: variant.platform }, configDigest: configDescriptor.digest, layers: manifest.layers.length });
    }
    let result: Descriptor;
    if (single) {
      const only = written[0]!.descriptor;
      result = { mediaType: only.mediaType, digest: only.digest, size: only.size };
    } else {
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: written.map((entry) => ({
          mediaType: entry.descriptor.mediaType,
          digest: entry.descriptor.digest,
          size: entry.descriptor.size,
          platform: entry.variant.platform,
        })),
      };
      if (request.annotations !== undefined && Object.keys(request.annotations).length > 0) index.annotations = sortedRecord(request.annotations);
      const descriptor = await request.target.putManifest(manifestBytes(index), MediaTypes.ociIndex, request.tag);
      result = { mediaType: MediaTypes.ociIndex, digest: descriptor.digest, size: descriptor.size };
    }
    return {
      target: request.target.name,
      ...(request.tag === undefined ? {} : { tag: request.tag }),
      descriptor: result,
      platforms: written.map((entry) => ({
        platform: formatPlatform(entry.variant.platform),
        manifest: { mediaType: entry.descriptor.mediaType, digest: entry.descriptor.digest, size: entry.descriptor.size },
        config: entry.configDigest,
        base: entry.variant.base === "scratch" ? "scratch" : entry.variant.base.name,
        ...(entry.variant.baseDescriptor === undefined ? {} : { baseDigest: entry.variant.baseDescriptor.digest }),
        layers: entry.layers,
      })),
      layers: [...built.values()].map((layer) => ({
        source: layer.source.source,
        destination: layer.source.destination,
        ...(layer.source.platform === undefined ? {} : { platform: formatPlatform(layer.source.platform) }),
        digest: layer.spooled.descriptor.digest,
        diffId: layer.spooled.diffId,
        size: layer.spooled.descriptor.size,
        uncompressedSize: layer.spooled.uncompressedSize,
        entries: layer.spooled.entries,
      })),
      traffic,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    // A failed build must not delete spool files an upload is still reading.
    await Promise.allSettled(transfers);
    await rm(spool, { recursive: true, force: true });
  }
}

function readableOf(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}

interface BuiltLayer {
  source: PlatformLayer;
  spooled: SpooledLayer;
}

function layerKey(layer: PlatformLayer): string {
  return JSON.stringify([layer.source, layer.destination, layer.platform === undefined ? null : formatPlatform(layer.platform)]);
}

function layersFor(layers: readonly PlatformLayer[], platform: Platform): PlatformLayer[] {
  return layers.filter((layer) => layer.platform === undefined || platformMatches(layer.platform, platform));
}

async function buildLayers(
  request: AssembleRequest,
  variants: readonly Variant[],
  spool: string,
  say: (message: string) => void,
  onBuilt: (layer: BuiltLayer) => void,
): Promise<Map<string, BuiltLayer>> {
  const built = new Map<string, BuiltLayer>();
  for (const layer of request.layers) {
    if (layer.platform !== undefined && !variants.some((variant) => platformMatches(layer.platform!, variant.platform))) {
      throw new ImagewrightError("usage", `layer ${layer.source} is for ${formatPlatform(layer.platform)}, which the assembly does not build`, {
        input: `layer ${layer.source}`,
        hint: `platforms built: ${variants.map((variant) => formatPlatform(variant.platform)).join(", ")}`,
      });
    }
    const key = layerKey(layer);
    if (built.has(key)) continue;
    const spooled = await buildLayer(layer, request, path.join(spool, `layer-${built.size}.tar.gz`));
    say(`layer ${layer.destination} from ${layer.source}: ${spooled.entries} entries, ${spooled.descriptor.digest.slice(0, 19)}`);
    const result = { source: layer, spooled };
    built.set(key, result);
    onBuilt(result);
  }
  return built;
}

async function putIfMissing(target: ImageStore, descriptor: Descriptor, open: () => Readable, traffic: BlobTraffic): Promise<void> {
  if (await target.hasBlob(descriptor)) {
    traffic.present++;
    return;
  }
  await target.putBlob(descriptor, open());
  traffic.uploaded++;
  traffic.uploadedBytes += descriptor.size;
}

/** A base layer reaches the target without passing through here when it can: present, then mount, then copy. */
async function ensureBaseBlob(target: ImageStore, base: BaseImage, descriptor: Descriptor, traffic: BlobTraffic, say: (message: string) => void): Promise<void> {
  if (await target.hasBlob(descriptor)) {
    traffic.present++;
    return;
  }
  if (target.mountBlob !== undefined && base.store !== target && (await target.mountBlob(descriptor, base.store))) {
    traffic.mounted++;
    return;
  }
  say(`copying base layer ${descriptor.digest.slice(0, 19)} (${descriptor.size} bytes) from ${base.store.name}`);
  await target.putBlob(descriptor, await base.store.getBlob(descriptor));
  traffic.uploaded++;
  traffic.uploadedBytes += descriptor.size;
  traffic.baseBytesRead += descriptor.size;
}

async function resolveVariants(request: AssembleRequest): Promise<Variant[]> {
  const variants: Variant[] = [];
  for (const selection of request.bases) {
    if (selection.base === "scratch") {
      const platforms = selection.platform !== undefined ? [selection.platform] : (request.platforms ?? [{ os: "linux", architecture: "amd64" }]);
      for (const platform of platforms) variants.push(scratchVariant(platform));
      continue;
    }
    variants.push(...(await baseVariants(selection.base, selection.platform, request.platforms)));
  }
  const seen = new Map<string, Variant>();
  for (const variant of variants) {
    const name = formatPlatform(variant.platform);
    if (seen.has(name)) {
      throw new ImagewrightError("usage", `platform ${name} would be built twice`, {
        input: "base",
        hint: "give one base per platform, or select platforms with --platform",
      });
    }
    seen.set(name, variant);
  }
  if (request.platforms !== undefined) {
    for (const wanted of request.platforms) {
      if (!variants.some((variant) => platformMatches(wanted, variant.platform))) {
        throw new ImagewrightError("not-found", `no base for platform ${formatPlatform(wanted)}`, {
          input: "platform",
          hint: `bases offer: ${variants.map((variant) => formatPlatform(variant.platform)).join(", ") || "nothing"}`,
        });
      }
    }
  }
  return variants;
}

function scratchVariant(platform: Platform): Variant {
  const config: Record<string, unknown> = { architecture: platform.architecture, os: platform.os };
  if (platform.variant !== undefined) config.variant = platform.variant;
  config.config = {};
  config.rootfs = { type: "layers", diff_ids: [] };
  config.history = [];
  return { platform, base: "scratch", baseConfig: config, docker: false };
}

async function baseVariants(base: BaseImage, platform: Platform | undefined, restrict: Platform[] | undefined): Promise<Variant[]> {
  const stored = await base.store.getManifest(base.reference);
  const input = `base image ${base.name}`;
  const parsed = parseManifest(stored.bytes, input);
  if (parsed.kind === "image") {
    return [await imageVariant(base, stored.descriptor, parsed.manifest, parsed.mediaType, platform)];
  }
  const candidates = parsed.index.manifests.filter((entry) => !isAttestation(entry) && entry.platform !== undefined && entry.platform.os !== "unknown");
  const chosen = candidates.filter((entry) => {
    if (platform !== undefined) return platformMatches(platform, entry.platform!);
    return restrict === undefined || restrict.some((wanted) => platformMatches(wanted, entry.platform!));
  });
  if (chosen.length === 0) {
    throw new ImagewrightError("not-found", `${base.name} has no image for ${platform !== undefined ? formatPlatform(platform) : (restrict ?? []).map(formatPlatform).join(", ")}`, {
      input,
      hint: `it has: ${candidates.map((entry) => formatPlatform(entry.platform!)).join(", ") || "no platform images"}`,
    });
  }
  // With a wanted platform, an index may hold several variants that match it; the first wins, as engines pick.
  const picked = platform !== undefined ? chosen.slice(0, 1) : chosen;
  const variants: Variant[] = [];
  for (const entry of picked) {
    const child = await base.store.getManifest(entry.digest);
    const childParsed = parseManifest(child.bytes, `${input}@${entry.digest}`);
    if (childParsed.kind !== "image") {
      throw new ImagewrightError("invalid-input", `index entry ${entry.digest} of ${base.name} is not an image manifest`, { input, place: `manifests[${parsed.index.manifests.indexOf(entry)}]` });
    }
    variants.push(await imageVariant(base, child.descriptor, childParsed.manifest, childParsed.mediaType, entry.platform));
  }
  return variants;
}

async function imageVariant(base: BaseImage, descriptor: Descriptor, manifest: ImageManifest, mediaType: string, wanted: Platform | undefined): Promise<Variant> {
  const input = `config of base image ${base.name}`;
  const stream = await base.store.getBlob(manifest.config);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const checked = parseConfig(bytes, input);
  const raw = parseJsonDocument(bytes, input) as Record<string, unknown>;
  const platform: Platform = { os: checked.os, architecture: checked.architecture, ...(checked.variant === undefined ? {} : { variant: checked.variant }) };
  if (wanted !== undefined && !platformMatches(wanted, platform)) {
    throw new ImagewrightError("not-found", `${base.name} is ${formatPlatform(platform)}, not ${formatPlatform(wanted)}`, { input: `base image ${base.name}` });
  }
  if (checked.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new ImagewrightError("invalid-input", `base image ${base.name} lists ${manifest.layers.length} layers but its config ${checked.rootfs.diff_ids.length} diff_ids`, { input, place: "$.rootfs.diff_ids" });
  }
  return {
    platform: wanted !== undefined && platform.variant === undefined && wanted.variant !== undefined ? { ...platform, variant: wanted.variant } : platform,
    base,
    baseDescriptor: descriptor,
    baseManifest: manifest,
    baseConfig: raw,
    docker: mediaType === MediaTypes.dockerManifest,
  };
}

function isoTime(sourceDateEpoch: number): string {
  return new Date(sourceDateEpoch * 1000).toISOString().replace(".000Z", "Z");
}

function manifestAnnotations(variant: Variant, request: AssembleRequest): Record<string, string> {
  const annotations: Record<string, string> = { ...(request.annotations ?? {}) };
  if (variant.base !== "scratch" && variant.baseDescriptor !== undefined) {
    annotations["org.opencontainers.image.base.name"] = variant.base.name;
    annotations["org.opencontainers.image.base.digest"] = variant.baseDescriptor.digest;
  }
  return sortedRecord(annotations);
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

function configFor(variant: Variant, layers: readonly BuiltLayer[], request: AssembleRequest): Record<string, unknown> {
  const created = isoTime(request.sourceDateEpoch);
  const config = structuredClone(variant.baseConfig);
  const runtime = { ...((config.config as Record<string, unknown> | undefined) ?? {}) };
  const changes = request.config ?? {};
  const described: string[] = [];
  if (changes.env !== undefined && changes.env.length > 0) {
    const env = [...((runtime.Env as string[] | null | undefined) ?? [])];
    for (const [position, entry] of changes.env.entries()) {
      const equals = entry.indexOf("=");
      if (equals <= 0) {
        throw new ImagewrightError("invalid-input", `environment entry "${entry}" is not KEY=value`, { input: "env", place: `entry ${position + 1}` });
      }
      const key = entry.slice(0, equals + 1);
      const existing = env.findIndex((line) => line.startsWith(key));
      if (existing >= 0) env[existing] = entry;
      else env.push(entry);
    }
    runtime.Env = env;
    described.push(`ENV ${changes.env.join(" ")}`);
  }
  if (changes.entrypoint !== undefined) {
    runtime.Entrypoint = changes.entrypoint;
    if (changes.cmd === undefined) delete runtime.Cmd;
    described.push(`ENTRYPOINT ${JSON.stringify(changes.entrypoint)}`);
  }
  if (changes.cmd !== undefined) {
    runtime.Cmd = changes.cmd;
    described.push(`CMD ${JSON.stringify(changes.cmd)}`);
  }
  if (changes.user !== undefined) {
    runtime.User = changes.user;
    described.push(`USER ${changes.user}`);
  }
  if (changes.workdir !== undefined) {
    if (!changes.workdir.startsWith("/")) {
      throw new ImagewrightError("invalid-input", `working directory "${changes.workdir}" is not an absolute path`, { input: "workdir", place: "character 1" });
    }
    runtime.WorkingDir = changes.workdir;
    described.push(`WORKDIR ${changes.workdir}`);
  }
  if (changes.exposedPorts !== undefined && changes.exposedPorts.length > 0) {
    const ports = { ...((runtime.ExposedPorts as Record<string, unknown> | null | undefined) ?? {}) };
    for (const [position, port] of changes.exposedPorts.entries()) {
      const match = PORT.exec(port);
      if (match === null || Number(match[1]) < 1 || Number(match[1]) > 65535) {
        throw new ImagewrightError("invalid-input", `port "${port}" is not <1-65535>[/tcp|/udp|/sctp]`, { input: "expose", place: `entry ${position + 1}` });
      }
      ports[`${Number(match[1])}/${match[2] ?? "tcp"}`] = {};
    }
    runtime.ExposedPorts = ports;
    described.push(`EXPOSE ${changes.exposedPorts.join(" ")}`);
  }
  if (changes.volumes !== undefined && changes.volumes.length > 0) {
    const volumes = { ...((runtime.Volumes as Record<string, unknown> | null | undefined) ?? {}) };
    for (const [position, volume] of changes.volumes.entries()) {
      if (!volume.startsWith("/")) {
        throw new ImagewrightError("invalid-input", `volume "${volume}" is not an absolute path`, { input: "volume", place: `entry ${position + 1}` });
      }
      volumes[volume] = {};
    }
    runtime.Volumes = volumes;
    described.push(`VOLUME ${JSON.stringify(changes.volumes)}`);
  }
  if (changes.labels !== undefined && Object.keys(changes.labels).length > 0) {
    runtime.Labels = { ...(runtime.Labels ?? {}), ...sortedRecord(changes.labels) };
    described.push(`LABEL ${Object.keys(changes.labels).sort().join(" ")}`);
  }
  if (changes.stopSignal !== undefined) {
    runtime.StopSignal = changes.stopSignal;
    described.push(`STOPSIGNAL ${changes.stopSignal}`);
  }
  config.config = runtime;
  config.created = created;
  const rootfs = config.rootfs as { type: string; diff_ids: string[] };
  config.rootfs = { ...rootfs, diff_ids: [...rootfs.diff_ids, ...layers.map((layer) => layer.spooled.diffId)] };
  // History names image paths only: host paths differ between checkouts and would change the digest.
  const history = [...((config.history as unknown[] | undefined) ?? [])];
  for (const layer of layers) {
    history.push({ created, created_by: `imagewright assemble: COPY ${layer.source.destination}`, comment: "imagewright" });
  }
  if (described.length > 0) {
    history.push({ created, created_by: `imagewright assemble: ${described.join("; ")}`, comment: "imagewright", empty_layer: true });
  }
  config.history = history;
  return config;
}
