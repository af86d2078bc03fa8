// trivy: its image scan, offline against a database given by path, and its JSON
// report (SchemaVersion 2) mapped into findings.

import { ImagewrightError } from "../errors/index.ts";
import type { Finding } from "./model.ts";
import { normalizeSeverity, severityFromScore } from "./model.ts";

interface TrivyVulnerability {
  VulnerabilityID: string;
  VendorIDs?: string[];
  PkgName: string;
  PkgPath?: string;
  PkgIdentifier?: { PURL?: string; UID?: string };
  InstalledVersion: string;
  FixedVersion?: string;
  Status?: string;
  Layer?: { Digest?: string; DiffID?: string };
  SeveritySource?: string;
  Title?: string;
  Severity?: string;
  CVSS?: Record<string, { V3Score?: number; V2Score?: number }>;
}

interface TrivyPackage {
  Name: string;
  Version: string;
  SrcName?: string;
  Identifier?: { PURL?: string; UID?: string };
}

interface TrivyReport {
  SchemaVersion: number;
  ArtifactName?: string;
  Metadata?: { OS?: { Family?: string; Name?: string }; ImageID?: string; DiffIDs?: string[] };
  Results?: { Target: string; Class?: string; Type?: string; Packages?: TrivyPackage[]; Vulnerabilities?: TrivyVulnerability[] | null }[];
}

/** `trivy image` arguments for an offline scan of a docker archive with the DB in `cacheDir`/db. */
export function trivyArguments(archive: string, cacheDir: string): string[] {
  return [
    "image",
    "--input", archive,
    "--cache-dir", cacheDir,
    // Never fetch: the DB is the one given; java DB, version check and telemetry stay off too.
    "--skip-db-update",
    "--skip-java-db-update",
    "--offline-scan",
    "--skip-version-check",
    "--disable-telemetry",
    "--scanners", "vuln",
    "--pkg-types", "os,library",
    "--list-all-pkgs",
    "--format", "json",
    "--quiet",
  ];
}

function purlType(purl: string | undefined): string {
  return /^pkg:([a-z0-9.+-]+)\//i.exec(purl ?? "")?.[1] ?? "unknown";
}

/** Maps trivy's JSON report into findings; anything that is not such a report is invalid input. */
export function parseTrivyReport(text: string, input = "trivy report"): Finding[] {
  let report: TrivyReport;
  try {
    report = JSON.parse(text) as TrivyReport;
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `${input} is not JSON`, { input, place: `byte ${/position (\d+)/.exec(String(cause))?.[1] ?? 0}`, cause });
  }
  if (typeof report !== "object" || report === null || report.SchemaVersion !== 2) {
    throw new ImagewrightError("invalid-input", `${input} is not a trivy report of SchemaVersion 2`, { input, place: "$.SchemaVersion" });
  }
  const findings: Finding[] = [];
  (report.Results ?? []).forEach((result, r) => {
    // The source package is on the package list (--list-all-pkgs), matched by trivy's UID,
    // or by name: InstalledVersion carries the epoch that Package.Version leaves out.
    const sources = new Map<string, string | undefined>();
    for (const p of result.Packages ?? []) {
      if (p.Identifier?.UID !== undefined) sources.set(`uid:${p.Identifier.UID}`, p.SrcName);
      sources.set(`name:${p.Name}`, p.SrcName);
    }
    (result.Vulnerabilities ?? []).forEach((v, i) => {
      if (typeof v.VulnerabilityID !== "string" || typeof v.PkgName !== "string") {
        throw new ImagewrightError("invalid-input", `${input}: a vulnerability without VulnerabilityID or PkgName`, { input, place: `$.Results[${r}].Vulnerabilities[${i}]` });
      }
      const purl = v.PkgIdentifier?.PURL ?? `pkg:generic/${v.PkgName}@${v.InstalledVersion}`;
      let severity = normalizeSeverity(v.Severity);
      let severitySource = v.SeveritySource ?? "trivy";
      if (severity === "unknown") {
        const score = Object.values(v.CVSS ?? {}).map((c) => c.V3Score ?? c.V2Score ?? 0).find((s) => s > 0);
        if (score !== undefined) {
          severity = severityFromScore(score);
          severitySource = "cvss";
        }
      }
      const sourceName = (v.PkgIdentifier?.UID === undefined ? undefined : sources.get(`uid:${v.PkgIdentifier.UID}`)) ?? sources.get(`name:${v.PkgName}`);
      const finding: Finding = {
        id: v.VulnerabilityID,
        aliases: [...(v.VendorIDs ?? [])].sort(),
        package: {
          name: v.PkgName,
          purl,
          type: purlType(purl),
          installedVersion: v.InstalledVersion,
          ...(sourceName !== undefined && sourceName !== "" && sourceName !== v.PkgName ? { sourceName } : {}),
          ...(v.PkgPath === undefined ? {} : { path: v.PkgPath }),
        },
        fixedVersions: (v.FixedVersion ?? "").split(/,\s*/).filter((s) => s !== ""),
        severity,
        severitySource,
        scanners: ["trivy"],
      };
      if (v.Title !== undefined) finding.title = v.Title;
      if (v.Layer?.Digest !== undefined || v.Layer?.DiffID !== undefined) {
        finding.layer = { ...(v.Layer.Digest === undefined ? {} : { digest: v.Layer.Digest }), ...(v.Layer.DiffID === undefined ? {} : { diffId: v.Layer.DiffID }) };
      }
      findings.push(finding);
    });
  });
  return findings;
}

/** trivy's own package count, for the SBOM fallback's sanity (components it saw). */
export function trivyPackageCount(text: string): number {
  const report = JSON.parse(text) as TrivyReport;
  return (report.Results ?? []).reduce((n, r) => n + (r.Packages?.length ?? 0), 0);
}
