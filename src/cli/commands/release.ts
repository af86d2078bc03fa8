// `imagewright release rc|promote|bump`: release candidates, promotion by digest and
// image patch releases — a few lines each over src/release.

import type { Command } from "commander";
import type { Catalog } from "../../catalog/index.ts";
import { repositoryOf } from "../../catalog/index.ts";
import { ImagewrightError } from "../../errors/index.ts";
import { RegistryClient } from "../../registry/index.ts";
import type { RegistryRepository } from "../../registry/index.ts";
import { bumpImage, productImages, promote, readCandidateTag, readRecords, releaseTags, requireCandidateTag } from "../../release/index.ts";
import type { BumpResult, PromoteResult, StoredRecord } from "../../release/index.ts";
import { parseRegistryReference } from "../../oci/index.ts";
import { readTag } from "../../versioning/index.ts";
import type { ImageCoordinates, VersionPart } from "../../versioning/index.ts";
import { answer, humanBytes, progress, table } from "../output.ts";
import { CATALOG_OPTION_HELP, catalogFromOptions } from "./catalog.ts";
import { registerCandidate } from "./release-candidate.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const PROMOTE_HELP = `
Copies each image of the candidate by digest (every platform, blobs mounted inside one
registry) from the evaluation repository to the release repository, then writes the
release tag (and floating tags that follow the newest release) last. Refuses a release tag
that points at another digest (exit 5) unless --force --reason; refuses a candidate whose
tests or scan gate failed (exit 1, read from its release record) unless --override --reason.
Both reasons are recorded in a promotion record attached to the released image.
A second run writes nothing; an interrupted run completes when run again.

Examples:
  imagewright release promote kafka 4.1.0-rc1 --to 4.1.0 --catalog examples/catalog --dry-run
  imagewright release promote kafka 4.1.0_stackable0.1.0-rc1 --catalog examples/catalog`;

const BUMP_HELP = `
Reads the release repository's tags (not the catalog) for the newest released image
version of the product version, bumps it, and prints the git tag that makes CI build it.

Example:
  imagewright release bump kafka 3.9.1 --patch --catalog examples/catalog`;

interface RepositoryOptions {
  catalog?: string;
  image?: string[];
  /** `host/namespace` of the evaluation repositories instead of the catalog's `evaluation:`. */
  from?: string;
  /** `host/namespace` of the release repositories instead of the catalog's. */
  into?: string;
}

interface PromoteOptions extends RepositoryOptions {
  to?: string;
  force?: boolean;
  override?: boolean;
  reason?: string;
  dryRun?: boolean;
}

interface BumpOptions extends RepositoryOptions {
  major?: boolean;
  minor?: boolean;
  patch?: boolean;
}

/** `host/namespace` → the registry and namespace repositoryOf takes. */
export function repositoryPrefix(text: string, flag: string): { registry: string; namespace: string } {
  const slash = text.indexOf("/");
  if (slash <= 0 || slash === text.length - 1 || text.endsWith("/")) {
    throw new ImagewrightError("usage", `${flag} takes <registry>/<namespace>, not "${text}"`, { input: `${flag} ${text}`, hint: "e.g. 127.0.0.1:5000/stackable" });
  }
  return { registry: text.slice(0, slash), namespace: text.slice(slash + 1) };
}

/** The repository of `image` under a `host/namespace` prefix, as an ImageStore. */
export function repositoryAt(client: RegistryClient, prefix: { registry: string; namespace: string }, image: string): RegistryRepository {
  const name = repositoryOf(prefix, image);
  const slash = name.indexOf("/");
  return client.repository(name.slice(0, slash), name.slice(slash + 1));
}

function evaluationPrefix(catalog: Catalog, options: RepositoryOptions): { registry: string; namespace: string } {
  return options.from === undefined ? catalog.evaluation : repositoryPrefix(options.from, "--from");
}

function releasePrefix(catalog: Catalog, options: RepositoryOptions): { registry: string; namespace: string } {
  return options.into === undefined ? catalog : repositoryPrefix(options.into, "--into");
}

function addRepositoryOptions(command: Command): Command {
  return command
    .option("--catalog <dir>", CATALOG_OPTION_HELP)
    .option("--image <name>", "only this image of the product (repeatable; default: all its images)", collect)
    .option("--from <registry/namespace>", "evaluation repositories (default: the catalog's evaluation:)")
    .option("--into <registry/namespace>", "release repositories (default: the catalog's registry and namespace)");
}

export function register(program: Command): void {
  const release = program.command("release").description("Release candidates, promotion to immutable release tags, image patch releases.");
  registerCandidate(release);
  registerRecords(release);

  addRepositoryOptions(
    release
      .command("promote")
      .description("Promote a voted release candidate by digest to the release repository under its release tags.")
      .argument("<product>", "the product, e.g. kafka (its images kafka, kafka-native, …)")
      .argument("<rc-tag>", "the candidate's tag, e.g. 4.1.0-rc1"),
  )
    .option("--to <version>", "the release: its tag or product version (default: the candidate's release)")
    .option("--force", "replace a release tag that points at another digest (needs --reason)")
    .option("--override", "promote although the candidate's tests or scan gate failed (needs --reason)")
    .option("--reason <text>", "why --force or --override; recorded with the release")
    .option("--dry-run", "show every tag it would write, write nothing")
    .addHelpText("after", PROMOTE_HELP)
    .action(async (product: string, rcTag: string, options: PromoteOptions, command: Command) => {
      const reason = options.reason?.trim();
      if ((options.force === true || options.override === true) && (reason === undefined || reason === "")) {
        throw new ImagewrightError("usage", `${options.force === true ? "--force" : "--override"} needs --reason "<why>": the reason is recorded`, { input: options.force === true ? "--force" : "--override" });
      }
      const catalog = catalogFromOptions(options);
      const scheme = catalog.tagScheme;
      const reading = requireCandidateTag(scheme, rcTag);
      const release = releaseOf(reading.release, options.to, scheme, rcTag);
      const images = productImages(catalog, product, reading.release.productVersion, options.image ?? []);
      const client = new RegistryClient();
      try {
        const results: PromoteResult[] = [];
        const skipped: { image: string; reason: string }[] = [];
        for (const image of images) {
          const source = repositoryAt(client, evaluationPrefix(catalog, options), image.name);
          const destination = repositoryAt(client, releasePrefix(catalog, options), image.name);
          const coordinates: ImageCoordinates = { ...release, product: image.name };
          if (!(await hasTag(source, rcTag)) && options.image === undefined) {
            skipped.push({ image: image.name, reason: `${source.reference(rcTag)} does not exist (no candidate of this image)` });
            progress(command, `${image.name}: ${source.reference(rcTag)} does not exist, skipped`);
            continue;
          }
          const tags = releaseTags(scheme, coordinates);
          results.push(
            await promote({
              image: image.name,
              scheme,
              source,
              rcTag,
              destination,
              releaseTag: tags.tag,
              floatingTags: tags.floating,
              ...(options.force === true ? { force: { reason: reason! } } : {}),
              ...(options.override === true ? { override: { reason: reason! } } : {}),
              ...(options.dryRun === true ? { dryRun: true } : {}),
              onProgress: (line) => progress(command, line),
            }),
          );
        }
        if (results.length === 0) {
          throw new ImagewrightError("not-found", `no image of ${product} has the candidate ${rcTag}`, { input: `rc tag ${rcTag}`, hint: skipped.map((s) => `${s.image}: ${s.reason}`).join("; ") });
        }
        answer(command, { product, rcTag, dryRun: options.dryRun === true, images: results, skipped }, renderPromotion);
      } finally {
        await client.close();
      }
    });

  addRepositoryOptions(
    release
      .command("bump")
      .description("The next image version of a product version from the registry's tags, and the git tag to push.")
      .argument("<product>", "the product, e.g. kafka")
      .argument("<product-version>", "e.g. 3.9.1"),
  )
    .option("--major", "bump the major image version")
    .option("--minor", "bump the minor image version")
    .option("--patch", "bump the patch image version (default: a CVE fix)")
    .addHelpText("after", BUMP_HELP)
    .action(async (product: string, productVersion: string, options: BumpOptions, command: Command) => {
      const parts = (["major", "minor", "patch"] as const).filter((part) => options[part] === true);
      if (parts.length > 1) throw new ImagewrightError("usage", `choose one of --major, --minor, --patch (got ${parts.map((p) => `--${p}`).join(", ")})`, { input: parts.map((p) => `--${p}`).join(" ") });
      const part: VersionPart = parts[0] ?? "patch";
      const catalog = catalogFromOptions(options);
      const images = productImages(catalog, product, productVersion, options.image ?? []);
      const client = new RegistryClient();
      try {
        const bumps: BumpResult[] = [];
        for (const image of images) {
          const version = image.byProductVersion.get(productVersion)!;
          bumps.push(await bumpImage(repositoryAt(client, releasePrefix(catalog, options), image.name), catalog.tagScheme, version, part));
        }
        answer(command, { product, productVersion, part, images: bumps }, renderBumps);
      } finally {
        await client.close();
      }
    });
}

function registerRecords(release: Command): void {
  release
    .command("records")
    .description("Read back the release records attached to an image (its candidate facts and every promotion).")
    .argument("<reference>", "registry reference by tag or digest, e.g. 127.0.0.1:5000/stackable/kafka:4.1.0_stackable0.1.0")
    .action(async (reference: string, _options: unknown, command: Command) => {
      const parsed = parseRegistryReference(reference);
      const client = new RegistryClient();
      try {
        const store = client.repository(parsed.registry, parsed.repository);
        const subject = await store.resolve(parsed.digest ?? parsed.tag ?? "latest");
        const records = await readRecords(store, subject.digest);
        if (records.length === 0) {
          throw new ImagewrightError("not-found", `${store.name}@${subject.digest} has no release record`, { input: reference, hint: "records are attached by `imagewright release rc` and `release promote`" });
        }
        answer(command, { reference, digest: subject.digest, records }, (result) => renderRecords(result.records));
      } finally {
        await client.close();
      }
    });
}

function renderRecords(records: readonly StoredRecord[]): string {
  return records
    .map(({ descriptor, record }) => {
      if (record.type === "candidate") {
        return [
          `candidate ${record.rcTag} (${record.createdAt}) record ${descriptor.digest}`,
          `  tests: ${record.tests.suite} ${record.tests.status}; scan gate ${record.scan.gate} at ${record.scan.failOn}`,
          `  artifact: ${record.inputs.artifactUrl} sha512 ${record.inputs.sha512.slice(0, 16)}…; catalog ${record.inputs.catalogRevision}`,
        ].join("\n");
      }
      const lines = [`promotion ${record.from} → ${record.tags.join(", ")} (${record.createdAt}) record ${descriptor.digest}`];
      if (record.forced !== undefined) lines.push(`  forced: ${record.forced.reason} (replaced ${record.forced.replaced.map((r) => `${r.tag}@${r.digest}`).join(", ")})`);
      if (record.overridden !== undefined) lines.push(`  overridden: ${record.overridden.reason} (${record.overridden.problems.join("; ")})`);
      return lines.join("\n");
    })
    .join("\n");
}

async function hasTag(store: RegistryRepository, tag: string): Promise<boolean> {
  try {
    await store.resolve(tag);
    return true;
  } catch (error) {
    if (error instanceof ImagewrightError && error.kind === "not-found") return false;
    throw error;
  }
}

/** The release a candidate becomes: its own coordinates without the rc, or what --to names (a release tag, or the same product version). */
function releaseOf(candidate: ImageCoordinates, to: string | undefined, scheme: Catalog["tagScheme"], rcTag: string): ImageCoordinates {
  if (to === undefined || to === candidate.productVersion) return candidate;
  let named: ImageCoordinates | undefined;
  try {
    const reading = readTag(scheme, to);
    if (reading.kind === "release") named = reading.coordinates;
  } catch (error) {
    if (!(error instanceof ImagewrightError)) throw error;
  }
  if (named === undefined || readCandidateTag(scheme, to) !== undefined) {
    throw new ImagewrightError("invalid-input", `--to ${to} is neither the candidate's product version ${candidate.productVersion} nor a release tag of tag scheme ${scheme.name}`, {
      input: `--to ${to}`,
      hint: `release tags look like ${scheme.registryTag}`,
    });
  }
  if (named.productVersion !== candidate.productVersion) {
    throw new ImagewrightError("usage", `--to ${to} is product version ${named.productVersion}, but ${rcTag} is a candidate of ${candidate.productVersion}`, { input: `--to ${to}` });
  }
  return { ...candidate, ...named };
}

function renderPromotion(result: { rcTag: string; dryRun: boolean; images: PromoteResult[]; skipped: { image: string; reason: string }[] }): string {
  const rows = result.images.flatMap((image) => image.tags.map((tag) => ({ image, tag })));
  const lines = [
    table(rows, [
      { header: "IMAGE", value: (r) => r.image.image },
      { header: "TAG", value: (r) => `${r.image.destination}:${r.tag.tag}` },
      { header: "ACTION", value: (r) => (result.dryRun && (r.tag.action === "write" || r.tag.action === "replace") ? `would ${r.tag.action}` : r.tag.action) },
      { header: "DIGEST", value: (r) => r.image.digest },
      { header: "WHY", value: (r) => r.tag.why },
    ]),
  ];
  for (const image of result.images) {
    if (image.status === "already-promoted") lines.push(`${image.image}: already promoted, nothing written`);
    else if (image.status === "promoted") {
      const b = image.blobs;
      lines.push(`${image.image}: promoted with ${image.writes} writes; blobs ${b.mounted} mounted (${humanBytes(b.bytesMounted)}), ${b.copied} copied (${humanBytes(b.bytesCopied)}), ${b.skipped} already there`);
    }
    if (image.overridden.length > 0) lines.push(`${image.image}: overridden: ${image.overridden.join("; ")}`);
  }
  for (const skipped of result.skipped) lines.push(`${skipped.image}: skipped (${skipped.reason})`);
  return lines.join("\n");
}

function renderBumps(result: { images: BumpResult[] }): string {
  const lines = [
    table(result.images, [
      { header: "IMAGE", value: (b) => b.image },
      { header: "RELEASED", value: (b) => b.current.tag },
      { header: "NEXT", value: (b) => b.next.tag },
      { header: "GIT TAG", value: (b) => b.next.gitTag },
    ]),
  ];
  for (const bump of result.images) {
    if (bump.taken) lines.push(`${bump.image}: ${bump.repository}:${bump.next.tag} already exists — released outside this catalog?`);
    if (bump.catalogImageVersion !== bump.current.imageVersion) lines.push(`${bump.image}: the catalog says ${bump.catalogImageVersion}, the registry's newest release is ${bump.current.imageVersion}`);
    lines.push(`${bump.image}: set imageVersion: ${bump.next.imageVersion} in the catalog, then: git tag ${bump.next.gitTag} && git push origin ${bump.next.gitTag}`);
  }
  return lines.join("\n");
}
