// The one findings model every scanner adapter maps into, and the shape of a scan:
// which scanners ran (or could not), what they found, and what the gate decided.

import type { ScanDifference } from "./history.ts";

export const SEVERITIES = ["unknown", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export type ScannerName = "trivy" | "grype" | "osv-scanner";
export const SCANNER_NAMES: readonly ScannerName[] = ["trivy", "grype", "osv-scanner"];

/** A package as the scanners name it; `purl` is what dedupe keys on across scanners. */
export interface FindingPackage {
  name: string;
  /** The source package (Debian) when the advisory is keyed on it and it differs from `name`. */
  sourceName?: string;
  purl: string;
  /** deb, maven, npm …: the purl type. */
  type: string;
  installedVersion: string;
  /** Where in the image it was found (a jar's path), when the scanner says. */
  path?: string;
}

export interface Finding {
  /** The preferred id: a CVE when there is one, else the advisory's own id (GHSA, DSA …). */
  id: string;
  /** Every other id the advisory goes by, sorted (CVE ↔ GHSA ↔ DSA ↔ DEBIAN-CVE). */
  aliases: string[];
  package: FindingPackage;
  /** Versions that fix it, in the scanners' words; empty when no fix exists (yet). */
  fixedVersions: string[];
  severity: Severity;
  /** Who rated it: "nvd", "debian", "ghsa", "cvss:3.1" … as the scanner reports. */
  severitySource: string;
  title?: string;
  /** The layer that brought the package, when the scanner says. */
  layer?: { digest?: string; diffId?: string };
  scanners: ScannerName[];
  /** Set when an ignore entry covers it: it no longer counts for the gate. */
  ignored?: { reason: string; expires: string };
}

export type ScannerState = "ok" | "missing" | "database-missing" | "database-stale" | "failed";

/** What one scanner did in a scan: a missing tool or DB is a state, never an empty result. */
export interface ScannerStatus {
  scanner: ScannerName;
  state: ScannerState;
  version?: string;
  /** The database it used (path) and when it was built, when it says. */
  database?: { path: string; updatedAt?: string };
  detail?: string;
  findings: number;
  seconds?: number;
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Maps the words scanners use (CRITICAL, Moderate, negligible …) onto our five levels. */
export function normalizeSeverity(text: string | undefined): Severity {
  switch ((text ?? "").trim().toLowerCase()) {
    case "critical":
      return "critical";
    case "high":
    case "important":
      return "high";
    case "medium":
    case "moderate":
      return "medium";
    case "low":
    case "negligible":
    case "unimportant":
      return "low";
    default:
      return "unknown";
  }
}

/** Severity from a CVSS base score, with the v3 bands. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score > 0) return "low";
  return "unknown";
}

export const compareFindings = (a: Finding, b: Finding): number =>
  severityRank(b.severity) - severityRank(a.severity) || a.package.name.localeCompare(b.package.name) || a.id.localeCompare(b.id);

/** The product coordinates of an image scanned from the catalog (`scan --supported`). */
export interface CatalogCoordinates {
  image: string;
  productVersion: string;
  imageVersion: string;
  tag: string;
}

export interface PatchRelease {
  /** True when a fix exists for at least one finding that is not ignored. */
  needed: boolean;
  /** The image version the patch release would get (image version + 1 patch). */
  nextImageVersion?: string;
  /** Findings with a fix: id, package, installed → fixed. */
  fixable: { id: string; package: string; installedVersion: string; fixedVersions: string[]; severity: Severity }[];
}

export interface ImageScan {
  reference: string;
  digest: string;
  platform: string;
  scannedAt: string;
  catalog?: CatalogCoordinates;
  scanners: ScannerStatus[];
  findings: Finding[];
  counts: Record<Severity, number>;
  sbom?: { path: string; generator: string; components: number };
  /** Ignore entries past their date (they ignored nothing) and entries that matched nothing. */
  ignores: { expired: { id: string; expires: string; reason: string; place: string }[]; unused: { id: string; place: string }[] };
  difference: ScanDifference;
  patchRelease: PatchRelease;
}

export interface Gate {
  failOn: Severity | "none";
  passed: boolean;
  /** unavailable: a scanner or database is missing or stale; failed: findings at or above the threshold. */
  outcome: "passed" | "failed" | "unavailable";
  reasons: string[];
}

export interface ScanReport {
  kind: "imagewright/scan-report";
  version: 1;
  scannedAt: string;
  images: ImageScan[];
  /** scan --supported: supported product versions with no released image in the registry. */
  unreleased?: string[];
  gate: Gate;
}
