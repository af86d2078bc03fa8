// A scan from end to end: export each image once, run every chosen scanner over it,
// merge, apply the ignore file, compare with the kept previous scan, keep this one,
// and decide the gate. Missing scanners and databases make the gate "unavailable".

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog } from "../catalog/index.ts";
import { repositoryOf } from "../catalog/index.ts";
import { ImagewrightError } from "../errors/index.ts";
import type { RegistryClient } from "../registry/index.ts";
import { bumpImageVersion, compareImageVersions, readTag } from "../versioning/index.ts";
import { difference, keepScan, latestScan, referenceKey } from "./history.ts";
import { exportImage } from "./image.ts";
import type { ScanTarget } from "./image.ts";
import type { IgnoreEntry } from "./ignore.ts";
import { applyIgnores } from "./ignore.ts";
import { mergeFindings } from "./merge.ts";
import type { CatalogCoordinates, Finding, Gate, ImageScan, PatchRelease, ScannerName, ScanReport, Severity } from "./model.ts";
import { SEVERITIES, severityRank } from "./model.ts";
import { writeSbom } from "./sbom.ts";
import type { PreparedScanner, ScannerSetup } from "./scanners.ts";
import { prepareScanner, runScanner } from "./scanners.ts";

export interface ScanOptions {
  scanners: readonly ScannerName[];
  setup: ScannerSetup;
  failOn: Severity | "none";
  ignores: readonly IgnoreEntry[];
  /** Where scans are kept for the next comparison; undefined: compare with nothing, keep nothing. */
  state: string | undefined;
  /** Write a CycloneDX SBOM per image here (default: next to the kept scan). */
  sbomDirectory?: string;
  sbom: boolean;
  client: RegistryClient;
  progress: (line: string) => void;
}

export interface ScanRequest {
  reference: string;
  catalog?: CatalogCoordinates;
}

function emptyCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

/** Fills the half of a layer reference the scanner left out (digest ↔ diffID). */
function attributeLayers(findings: Finding[], target: ScanTarget): Finding[] {
  const byDiffId = new Map(target.layers.map((l) => [l.diffId, l]));
  const byDigest = new Map(target.layers.map((l) => [l.digest, l]));
  return findings.map((f) => {
    if (f.layer === undefined) return f;
    const layer = (f.layer.diffId === undefined ? undefined : byDiffId.get(f.layer.diffId)) ?? (f.layer.digest === undefined ? undefined : byDigest.get(f.layer.digest));
    return layer === undefined ? f : { ...f, layer: { digest: layer.digest, diffId: layer.diffId } };
  });
}

export function isAtOrAbove(finding: Finding, failOn: Severity | "none"): boolean {
  return failOn !== "none" && severityRank(finding.severity) >= severityRank(failOn);
}

function patchRelease(findings: readonly Finding[], catalog: CatalogCoordinates | undefined): PatchRelease {
  const fixable = findings
    .filter((f) => f.ignored === undefined && f.fixedVersions.length > 0)
    .map((f) => ({ id: f.id, package: f.package.name, installedVersion: f.package.installedVersion, fixedVersions: f.fixedVersions, severity: f.severity }));
  const result: PatchRelease = { needed: fixable.length > 0, fixable };
  if (fixable.length > 0 && catalog !== undefined) result.nextImageVersion = bumpImageVersion(catalog.imageVersion, "patch");
  return result;
}

async function scanOne(request: ScanRequest, prepared: readonly PreparedScanner[], options: ScanOptions): Promise<ImageScan> {
  const scannedAt = new Date().toISOString();
  const work = await mkdtemp(join(tmpdir(), "imagewright-scan-"));
  try {
    options.progress(`exporting ${request.reference}`);
    const target = await exportImage(request.reference, work, options.client);
    const runs = [];
    for (const scanner of prepared) {
      if (scanner.unavailable === undefined) options.progress(`${scanner.name}: scanning ${request.reference}`);
      runs.push(await runScanner(scanner, target.archive, options.setup.env));
    }
    const merged = attributeLayers(mergeFindings(runs.flatMap((r) => r.findings)), target);
    const ignored = applyIgnores(merged, options.ignores, options.setup.now);
    const counts = emptyCounts();
    for (const f of ignored.findings) if (f.ignored === undefined) counts[f.severity]++;
    const previous = options.state === undefined ? undefined : await latestScan(options.state, request.reference);
    const scan: ImageScan = {
      reference: request.reference,
      digest: target.digest,
      platform: target.platform,
      scannedAt,
      ...(request.catalog === undefined ? {} : { catalog: request.catalog }),
      scanners: runs.map((r) => r.status),
      findings: ignored.findings,
      counts,
      ignores: {
        expired: ignored.expired.map((e) => ({ id: e.id, expires: e.expires, reason: e.reason, place: e.place })),
        unused: ignored.unused.map((e) => ({ id: e.id, place: e.place })),
      },
      difference: difference(previous, ignored.findings),
      patchRelease: patchRelease(ignored.findings, request.catalog),
    };
    if (options.sbom) {
      const directory = options.sbomDirectory ?? (options.state === undefined ? undefined : join(options.state, "sboms"));
      if (directory !== undefined) {
        await mkdir(directory, { recursive: true });
        const trivy = prepared.find((p) => p.name === "trivy" && p.unavailable === undefined);
        const sbom = await writeSbom(target.archive, join(directory, `${referenceKey(request.reference)}.cdx.json`), {
          env: options.setup.env,
          ...(trivy?.database === undefined ? {} : { trivyCacheDir: trivy.database.path }),
        });
        if (sbom !== undefined) scan.sbom = sbom;
      }
    }
    // Only a scan every scanner completed becomes the baseline: a partial one would report fixes that are not.
    if (options.state !== undefined && scan.scanners.every((s) => s.state === "ok")) {
      await keepScan(options.state, scan);
    }
    return scan;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function decideGate(images: readonly ImageScan[], failOn: Severity | "none"): Gate {
  const reasons: string[] = [];
  let unavailable = false;
  let failed = false;
  for (const image of images) {
    for (const s of image.scanners) {
      if (s.state !== "ok") {
        unavailable = true;
        reasons.push(`${image.reference}: ${s.scanner} ${s.state}${s.detail === undefined ? "" : ` (${s.detail})`}`);
      }
    }
    const blocking = image.findings.filter((f) => f.ignored === undefined && isAtOrAbove(f, failOn));
    if (blocking.length > 0) {
      failed = true;
      reasons.push(`${image.reference}: ${blocking.length} finding(s) at or above ${failOn}`);
    }
  }
  // Unavailable wins over failed: a result with a scanner missing is not a result.
  const outcome = unavailable ? "unavailable" : failed ? "failed" : "passed";
  return { failOn, passed: outcome === "passed", outcome, reasons };
}

/** Scans the images requested with every chosen scanner and decides the gate. */
export async function scanImages(requests: readonly ScanRequest[], options: ScanOptions): Promise<ScanReport> {
  if (options.scanners.length === 0) throw new ImagewrightError("usage", "no scanner chosen", { input: "--scanners", hint: "one or more of trivy, grype, osv-scanner" });
  const prepared: PreparedScanner[] = [];
  for (const name of options.scanners) {
    const scanner = await prepareScanner(name, options.setup);
    if (scanner.unavailable !== undefined) options.progress(`${name}: ${scanner.unavailable.state}${scanner.unavailable.detail === undefined ? "" : ` (${scanner.unavailable.detail})`}`);
    prepared.push(scanner);
  }
  const images: ImageScan[] = [];
  for (const request of requests) images.push(await scanOne(request, prepared, options));
  return { kind: "imagewright/scan-report", version: 1, scannedAt: options.setup.now.toISOString(), images, gate: decideGate(images, options.failOn) };
}

export interface SupportedImage extends ScanRequest {
  catalog: CatalogCoordinates;
}

/**
 * Every supported product version's newest released image, as the registry has it:
 * tags read with the catalog's tag scheme, release candidates and floating tags left out.
 * Versions with no released tag yet are returned in `unreleased`.
 */
export async function supportedImages(catalog: Catalog, client: RegistryClient): Promise<{ images: SupportedImage[]; unreleased: string[] }> {
  const images: SupportedImage[] = [];
  const unreleased: string[] = [];
  for (const image of catalog.images) {
    const supported = image.versions.filter((v) => v.support.status === "supported");
    if (supported.length === 0) continue;
    const repository = repositoryOf(catalog, image.name);
    const slash = repository.indexOf("/");
    let tags: string[] = [];
    try {
      tags = await client.repository(repository.slice(0, slash), repository.slice(slash + 1)).listTags();
    } catch (error) {
      if (!(error instanceof ImagewrightError && error.kind === "not-found")) throw error;
    }
    for (const version of supported) {
      let best: { tag: string; imageVersion: string } | undefined;
      for (const tag of tags) {
        let reading;
        try {
          reading = readTag(catalog.tagScheme, tag, { products: [image.name] });
        } catch {
          continue; // not a tag of this scheme (e.g. "latest")
        }
        const c = reading.coordinates;
        if (reading.kind !== "release" || c.productVersion !== version.productVersion || c.imageVersion === undefined) continue;
        if (c.product !== undefined && c.product !== image.name) continue;
        if (best === undefined || compareImageVersions(c.imageVersion, best.imageVersion) > 0) best = { tag, imageVersion: c.imageVersion };
      }
      if (best === undefined) {
        unreleased.push(`${image.name} ${version.productVersion}`);
        continue;
      }
      images.push({
        reference: `${repository}:${best.tag}`,
        catalog: { image: image.name, productVersion: version.productVersion, imageVersion: best.imageVersion, tag: best.tag },
      });
    }
  }
  return { images, unreleased };
}
