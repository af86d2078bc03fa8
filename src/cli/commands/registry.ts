// The image commands: `ls`, `inspect`, `digest`, `copy` and `tag <ref> <new-tag>`,
// each a few lines over src/oci (locations, copy) and src/registry (the client).
// Those libraries (zod, undici, tar-stream) load when an image command runs, not
// for every command: CLI start-up is most of a short command's time.

import type { Command } from "commander";
import { ImagewrightError } from "../../errors/index.ts";
import type { CopyEvent, CopyResult, Descriptor, ImageStore, Location, Platform } from "../../oci/index.ts";
import { formatPlatform, parsePlatform } from "../../oci/platform.ts";
import type * as OciLibrary from "../../oci/index.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type * as RegistryLibrary from "../../registry/index.ts";
import { answer, humanBytes, outputOptions, progress, table } from "../output.ts";

const REFERENCE_FORMS = `
References:
  127.0.0.1:5000/org/kafka:3.7.0         a registry tag (plain HTTP for loopback hosts)
  127.0.0.1:5000/org/kafka@sha256:…      a registry digest (tag@digest: the digest wins)
  kafka                                  Docker Hub: docker.io/library/kafka:latest
  oci:/path/to/layout[:tag]              an OCI image layout directory
  docker-archive:/path/image.tar[:name]  a \`docker save\` tarball (name like kafka:3.7.0)`;

interface Libraries {
  client: RegistryClient;
  oci: typeof OciLibrary;
  registry: typeof RegistryLibrary;
}

/** Runs `work` with the libraries loaded and a registry client that is closed afterwards, so the process can exit at once. */
async function withClient<T>(work: (libraries: Libraries) => Promise<T>): Promise<T> {
  const [oci, registry] = await Promise.all([import("../../oci/index.ts"), import("../../registry/index.ts")]);
  return registry.withRegistryClient((client) => work({ client, oci, registry }));
}

function collectPlatforms(value: string, previous: Platform[]): Platform[] {
  return [...previous, ...value.split(",").filter((p) => p !== "").map((p) => parsePlatform(p.trim()))];
}

function referenceText(oci: typeof OciLibrary, location: Location): string {
  return oci.referenceName(location.store, location.reference);
}

function short(digest: string): string {
  return digest.slice(0, 19);
}

// ---- ls ------------------------------------------------------------------

function lsCommand(program: Command): void {
  program
    .command("ls")
    .description("list the tags of a repository (or of an OCI layout or docker archive)")
    .argument("<repository>", "e.g. 127.0.0.1:5000/org/kafka")
    .addHelpText("after", `\nExamples:\n  imagewright ls 127.0.0.1:5000/org/kafka\n  imagewright ls oci:/tmp/kafka-layout --json\n${REFERENCE_FORMS}`)
    .action(async (text: string, _options: unknown, command: Command) => {
      const result = await withClient(async ({ client, oci }) => {
        const location = await oci.openLocation(text, { client });
        if (location.parsed.transport === "registry" && (location.parsed.tag !== undefined || location.parsed.digest !== undefined)) {
          throw new ImagewrightError("usage", "ls takes a repository, without tag or digest", { input: `reference "${text}"`, hint: `imagewright ls ${location.store.name}` });
        }
        return { repository: location.store.name, tags: (await location.store.listTags()).sort() };
      });
      answer(command, result, (r) => r.tags.join("\n"));
    });
}

// ---- digest ----------------------------------------------------------------

function digestCommand(program: Command): void {
  program
    .command("digest")
    .description("print the digest a reference points at")
    .argument("<reference>", "image reference")
    .addHelpText("after", `\nExamples:\n  imagewright digest 127.0.0.1:5000/org/kafka:3.7.0\n  imagewright digest oci:/tmp/kafka-layout:3.7.0 --json\n${REFERENCE_FORMS}`)
    .action(async (text: string, _options: unknown, command: Command) => {
      const result = await withClient(async ({ client, oci }) => {
        const location = await oci.openLocation(text, { client });
        const descriptor = await location.store.resolve(location.reference);
        return { reference: referenceText(oci, location), digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size };
      });
      answer(command, result, (r) => r.digest);
    });
}

// ---- inspect ---------------------------------------------------------------

interface InspectedImage {
  digest: string;
  mediaType: string;
  platform?: string;
  config: {
    digest: string;
    created?: string;
    user?: string;
    workingDir?: string;
    entrypoint?: string[];
    cmd?: string[];
    env: string[];
    exposedPorts: string[];
    labels: Record<string, string>;
  };
  layers: { digest: string; mediaType: string; size: number }[];
  /** Config plus layers, as stored (compressed where the layers are). */
  size: number;
  annotations: Record<string, string>;
}

interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  kind: "index" | "image";
  annotations: Record<string, string>;
  platforms?: { platform: string; digest: string; mediaType: string; size: number; attestation: boolean }[];
  image?: InspectedImage;
}

async function inspectImage(oci: typeof OciLibrary, store: ImageStore, descriptor: Descriptor, bytes: Uint8Array): Promise<InspectedImage> {
  const input = `${store.name}@${descriptor.digest}`;
  const parsed = oci.parseManifest(bytes, input, descriptor.mediaType);
  if (parsed.kind !== "image") throw new ImagewrightError("invalid-input", "expected an image manifest, found an index", { input });
  const { manifest } = parsed;
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(manifest.config)) chunks.push(chunk as Buffer);
  const config = oci.parseConfig(Buffer.concat(chunks), `config ${manifest.config.digest} of ${input}`);
  const c = config.config ?? {};
  return {
    digest: descriptor.digest,
    mediaType: parsed.mediaType,
    platform: formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) }),
    config: {
      digest: manifest.config.digest,
      ...(config.created === undefined ? {} : { created: config.created }),
      ...(c.User === undefined || c.User === "" ? {} : { user: c.User }),
      ...(c.WorkingDir === undefined || c.WorkingDir === "" ? {} : { workingDir: c.WorkingDir }),
      ...(c.Entrypoint ? { entrypoint: c.Entrypoint } : {}),
      ...(c.Cmd ? { cmd: c.Cmd } : {}),
      env: c.Env ?? [],
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      labels: c.Labels ?? {},
    },
    layers: manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
    size: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
    annotations: manifest.annotations ?? {},
  };
}

function renderImage(image: InspectedImage): string[] {
  const rows: [string, string][] = [["platform", image.platform ?? "?"], ["config", image.config.digest], ["size", humanBytes(image.size)]];
  if (image.config.created) rows.push(["created", image.config.created]);
  if (image.config.user) rows.push(["user", image.config.user]);
  if (image.config.workingDir) rows.push(["workdir", image.config.workingDir]);
  if (image.config.entrypoint) rows.push(["entrypoint", JSON.stringify(image.config.entrypoint)]);
  if (image.config.cmd) rows.push(["cmd", JSON.stringify(image.config.cmd)]);
  if (image.config.exposedPorts.length > 0) rows.push(["ports", image.config.exposedPorts.join(", ")]);
  for (const env of image.config.env) rows.push(["env", env]);
  for (const [key, value] of Object.entries(image.config.labels)) rows.push(["label", `${key}=${value}`]);
  for (const [key, value] of Object.entries(image.annotations)) rows.push(["annotation", `${key}=${value}`]);
  const lines = rows.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  lines.push("", table(image.layers.map((l, i) => ({ ...l, i })), [
    { header: "LAYER", value: (l) => String(l.i + 1), align: "right" },
    { header: "DIGEST", value: (l) => l.digest },
    { header: "SIZE", value: (l) => humanBytes(l.size), align: "right" },
    { header: "MEDIA TYPE", value: (l) => l.mediaType },
  ]));
  return lines;
}

function inspectCommand(program: Command): void {
  program
    .command("inspect")
    .description("show an image or index: platforms, layers, sizes, config summary, annotations")
    .argument("<reference>", "image reference")
    .option("--platform <os/arch[/variant]>", "for an index: show this platform's image in detail")
    .addHelpText(
      "after",
      `\nExamples:\n  imagewright inspect 127.0.0.1:5000/org/kafka:3.7.0\n  imagewright inspect 127.0.0.1:5000/org/kafka:3.7.0 --platform linux/arm64 --json\n  imagewright inspect docker-archive:/tmp/kafka.tar\n${REFERENCE_FORMS}`,
    )
    .action(async (text: string, options: { platform?: string }, command: Command) => {
      const wanted = options.platform === undefined ? undefined : parsePlatform(options.platform);
      const result = await withClient(async ({ client, oci }): Promise<InspectResult> => {
        const location = await oci.openLocation(text, { client });
        const { store } = location;
        const top = await store.getManifest(location.reference);
        const reference = referenceText(oci, location);
        const parsed = oci.parseManifest(top.bytes, reference, top.descriptor.mediaType);
        const base = { reference, digest: top.descriptor.digest, mediaType: parsed.mediaType };
        if (parsed.kind === "image") {
          return { ...base, kind: "image", annotations: parsed.manifest.annotations ?? {}, image: await inspectImage(oci, store, top.descriptor, top.bytes) };
        }
        const entries = parsed.index.manifests;
        const platforms = entries.map((e) => ({ platform: oci.describeEntry(e), digest: e.digest, mediaType: e.mediaType, size: e.size, attestation: oci.isAttestation(e) }));
        const result: InspectResult = { ...base, kind: "index", annotations: parsed.index.annotations ?? {}, platforms };
        if (wanted !== undefined) {
          const entry = entries.find((e) => !oci.isAttestation(e) && e.platform !== undefined && oci.platformMatches(wanted, e.platform));
          if (!entry) throw new ImagewrightError("not-found", `${reference} has no image for platform ${formatPlatform(wanted)}`, { input: reference, hint: `it has: ${platforms.filter((p) => !p.attestation).map((p) => p.platform).join(", ")}` });
          const child = await store.getManifest(entry.digest);
          result.image = await inspectImage(oci, store, child.descriptor, child.bytes);
        }
        return result;
      });
      answer(command, result, (r) => {
        const lines = [`${r.reference}`, `digest      ${r.digest}`, `media type  ${r.mediaType}`];
        for (const [key, value] of Object.entries(r.annotations)) lines.push(`annotation  ${key}=${value}`);
        if (r.platforms) {
          lines.push("", table(r.platforms, [
            { header: "PLATFORM", value: (p) => p.platform },
            { header: "DIGEST", value: (p) => p.digest },
            { header: "MANIFEST", value: (p) => humanBytes(p.size), align: "right" },
          ]));
        }
        if (r.image) lines.push("", ...renderImage(r.image));
        return lines.join("\n");
      });
    });
}

// ---- copy ------------------------------------------------------------------

/** Human progress lines on stderr for a copy's events. */
function copyProgress(command: Command): (event: CopyEvent) => void {
  let planned = 0;
  let blobs = 0;
  let done = 0;
  let moved = 0;
  return (event) => {
    switch (event.type) {
      case "plan":
        planned = event.bytes;
        blobs = event.blobs;
        progress(command, `${event.manifests} manifest(s), ${event.blobs} blob(s), ${humanBytes(event.bytes)}`);
        break;
      case "note":
        progress(command, `note: ${event.message}`);
        break;
      case "blob-progress":
        progress(command, `  ${short(event.descriptor.digest)} ${humanBytes(event.bytes)} of ${humanBytes(event.descriptor.size)}`);
        break;
      case "blob-done":
        done++;
        moved += event.descriptor.size;
        progress(command, `  ${short(event.descriptor.digest)} ${event.outcome.padEnd(7)} ${humanBytes(event.descriptor.size).padStart(8)}  [${done}/${blobs}, ${humanBytes(moved)} of ${humanBytes(planned)}]`);
        break;
      case "manifest":
        progress(command, `  manifest ${short(event.descriptor.digest)}${event.tag === undefined ? "" : ` tagged ${event.tag}`}`);
        break;
      case "blob-start":
        break;
    }
  };
}

function renderCopy(result: CopyResult): string {
  const count = (outcome: string): number => result.blobs.filter((b) => b.outcome === outcome).length;
  return [
    `copied ${result.source} → ${result.destination}`,
    `digest   ${result.descriptor.digest}${result.digestChanged ? ` (new; source was ${result.sourceDescriptor.digest})` : ""}`,
    `blobs    ${count("copied")} copied (${humanBytes(result.bytesCopied)}), ${count("mounted")} mounted (${humanBytes(result.bytesMounted)}), ${count("skipped")} already there (${humanBytes(result.bytesSkipped)})`,
    ...result.notes.map((n) => `note     ${n}`),
  ].join("\n");
}

function copyCommand(program: Command): void {
  program
    .command("copy")
    .description("copy an image or index between registries, OCI layouts and docker archives, keeping digests")
    .argument("<source>", "image to copy")
    .argument("<destination>", "where to put it (a tag, a layout or an archive file)")
    .option("--platform <os/arch[/variant]>", "keep only this platform of an index (repeatable, or comma-separated); the index digest then changes", collectPlatforms, [] as Platform[])
    .option("--concurrency <n>", "blobs transferred at once", (v) => {
      if (!/^[1-9][0-9]?$/.test(v)) throw new ImagewrightError("usage", `--concurrency ${JSON.stringify(v)} is not a number from 1 to 99`, { input: `--concurrency ${v}` });
      return Number(v);
    }, 4)
    .addHelpText(
      "after",
      `
Examples:
  imagewright copy 127.0.0.1:5000/eval/kafka:4.1.0-rc1 127.0.0.1:5000/release/kafka:4.1.0
  imagewright copy 127.0.0.1:5000/org/kafka:3.7.0 oci:/tmp/kafka-layout:3.7.0
  imagewright copy 127.0.0.1:5000/org/kafka:3.7.0 docker-archive:/tmp/kafka.tar:kafka:3.7.0 --platform linux/amd64
  imagewright copy oci:/tmp/kafka-layout:3.7.0 127.0.0.1:5001/org/kafka:3.7.0 --platform linux/amd64,linux/arm64 --json
${REFERENCE_FORMS}`,
    )
    .action(async (sourceText: string, destinationText: string, options: { platform: Platform[]; concurrency: number }, command: Command) => {
      const { json, quiet } = outputOptions(command);
      const result = await withClient(async ({ client, oci }) => {
        const source = await oci.openLocation(sourceText, { client });
        const destination = await oci.openLocation(destinationText, { client, forWriting: true });
        if (!json) progress(command, `copying ${referenceText(oci, source)} → ${referenceText(oci, destination)}`);
        return oci.copy(source.store, source.reference, destination.store, destination.reference, {
          platforms: options.platform,
          concurrency: options.concurrency,
          ...(json || quiet ? {} : { onProgress: copyProgress(command) }),
        });
      });
      answer(command, result, renderCopy);
    });
}

// ---- tag <ref> <new-tag> ---------------------------------------------------

function retagAction(program: Command): void {
  const tag = program.commands.find((c) => c.name() === "tag");
  if (tag === undefined) throw new Error("the tag command must be registered before the registry commands");
  tag
    .description(`${tag.description()}; or \`tag <ref> <new-tag>\` to point a new tag at an image`)
    .argument("[ref]", "image to tag (registry reference or oci:layout:tag)")
    .argument("[new-tag]", "the new tag, in the same repository")
    .option("--force", "move the tag even when it points at another image")
    .addHelpText(
      "after",
      `
Retagging (tag <ref> <new-tag>):
  imagewright tag 127.0.0.1:5000/org/kafka:3.7.0-rc1 3.7.0
  imagewright tag 127.0.0.1:5000/org/kafka@sha256:… 3.7.0 --json
  imagewright tag oci:/tmp/kafka-layout:3.7.0 latest
  An existing tag that points at a different image is not moved without --force.`,
    )
    .action(async (text: string | undefined, newTag: string | undefined, options: { force?: boolean }, command: Command) => {
      if (text === undefined || newTag === undefined) {
        command.help({ error: true });
        return;
      }
      const result = await withClient(async ({ client, oci, registry }) => {
        const location = await oci.openLocation(text, { client });
        const { store } = location;
        registry.checkTag(newTag);
        if (location.parsed.transport === "docker-archive") {
          throw new ImagewrightError("usage", "docker archives are written whole; use copy to write one with a new name", { input: `reference "${text}"` });
        }
        const manifest = await store.getManifest(location.reference);
        let previous: string | undefined;
        try {
          previous = (await store.resolve(newTag)).digest;
        } catch (error) {
          if (!(error instanceof ImagewrightError && error.kind === "not-found")) throw error;
        }
        if (previous !== undefined && previous !== manifest.descriptor.digest && options.force !== true) {
          throw new ImagewrightError("conflict", `${store.name}:${newTag} already points at ${previous}; not moving it to ${manifest.descriptor.digest}`, {
            input: `tag "${newTag}"`,
            hint: "pass --force to move it",
          });
        }
        const descriptor = await store.putManifest(manifest.bytes, manifest.descriptor.mediaType, newTag);
        return { source: referenceText(oci, location), tag: `${store.name}:${newTag}`, digest: descriptor.digest, ...(previous === undefined || previous === descriptor.digest ? {} : { previous }) };
      });
      answer(command, result, (r) => `${r.tag} → ${r.digest}${r.previous === undefined ? "" : ` (was ${r.previous})`}`);
    });
}

export function register(program: Command): void {
  lsCommand(program);
  inspectCommand(program);
  digestCommand(program);
  copyCommand(program);
  retagAction(program);
}
