// osv-scanner: its image scan against local OSV databases only, and its JSON
// report (results → packages → OSV records, with groups and image layers) as findings.

import { ImagewrightError } from "../errors/index.ts";
import type { Finding } from "./model.ts";
import { normalizeSeverity, severityFromScore } from "./model.ts";

interface OsvRecord {
  id: string;
  aliases?: string[];
  upstream?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: { type: string; score: string }[];
  affected?: { package?: { ecosystem?: string; name?: string }; ranges?: { type: string; events: Record<string, string>[] }[]; versions?: string[] }[];
  database_specific?: { severity?: string; urgency?: string };
}

interface OsvPackage {
  package: { name: string; os_package_name?: string; version: string; ecosystem: string; image_origin_details?: { index: number } };
  vulnerabilities?: OsvRecord[];
  groups?: { ids: string[]; aliases?: string[]; max_severity?: string }[];
}

interface OsvReport {
  results?: null | { source?: { path?: string; type?: string }; packages?: OsvPackage[] }[];
  image_metadata?: { layer_metadata?: { diff_id?: string; command?: string }[] };
}

/** `osv-scanner scan image` arguments: an archive, local databases only (--offline also stops deps.dev lookups), JSON. */
export function osvArguments(archive: string, localDbPath: string): string[] {
  return ["scan", "image", "--archive", archive, "--offline", "--local-db-path", localDbPath, "--format", "json"];
}

/** A purl for a package osv-scanner names by ecosystem: Debian:12 → deb, Maven → maven. */
export function osvPurl(name: string, version: string, ecosystem: string): { purl: string; type: string } {
  const base = ecosystem.split(":")[0] ?? ecosystem;
  switch (base) {
    case "Debian":
      return { purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}`, type: "deb" };
    case "Ubuntu":
      return { purl: `pkg:deb/ubuntu/${name}@${encodeURIComponent(version)}`, type: "deb" };
    case "Alpine":
      return { purl: `pkg:apk/alpine/${name}@${version}`, type: "apk" };
    case "Maven": {
      const [group, artifact] = name.split(":");
      return { purl: `pkg:maven/${group ?? ""}/${artifact ?? name}@${version}`, type: "maven" };
    }
    case "PyPI":
      return { purl: `pkg:pypi/${name.toLowerCase()}@${version}`, type: "pypi" };
    case "npm":
      return { purl: `pkg:npm/${name}@${version}`, type: "npm" };
    case "Go":
      return { purl: `pkg:golang/${name}@${version}`, type: "golang" };
    default:
      return { purl: `pkg:generic/${name}@${version}`, type: base.toLowerCase() };
  }
}

function fixedVersions(record: OsvRecord, name: string, ecosystem: string): string[] {
  const fixes = new Set<string>();
  for (const affected of record.affected ?? []) {
    if (affected.package?.name !== name || affected.package.ecosystem !== ecosystem) continue;
    for (const range of affected.ranges ?? []) for (const event of range.events) if (event["fixed"] !== undefined) fixes.add(event["fixed"]);
  }
  return [...fixes].sort();
}

export function parseOsvReport(text: string, input = "osv-scanner report"): Finding[] {
  let report: OsvReport;
  try {
    report = JSON.parse(text) as OsvReport;
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `${input} is not JSON`, { input, place: `byte ${/position (\d+)/.exec(String(cause))?.[1] ?? 0}`, cause });
  }
  // A scan with nothing found still has the key (Go writes an empty list as null).
  if (typeof report !== "object" || report === null || !("results" in report) || !(report.results === null || Array.isArray(report.results))) {
    throw new ImagewrightError("invalid-input", `${input} is not an osv-scanner JSON report`, { input, place: "$.results" });
  }
  const layers = report.image_metadata?.layer_metadata ?? [];
  const findings: Finding[] = [];
  (report.results ?? []).forEach((result, r) => {
    (result.packages ?? []).forEach((entry, p) => {
      const pkg = entry.package;
      if (typeof pkg?.name !== "string" || typeof pkg.version !== "string") {
        throw new ImagewrightError("invalid-input", `${input}: a package without name or version`, { input, place: `$.results[${r}].packages[${p}].package` });
      }
      // Debian advisories are keyed on the source package; the binary installed is os_package_name.
      const binary = pkg.os_package_name !== undefined && pkg.os_package_name !== "" ? pkg.os_package_name : pkg.name;
      const { purl, type } = osvPurl(binary, pkg.version, pkg.ecosystem);
      const layer = pkg.image_origin_details === undefined ? undefined : layers[pkg.image_origin_details.index]?.diff_id;
      for (const record of entry.vulnerabilities ?? []) {
        const group = entry.groups?.find((g) => g.ids.includes(record.id));
        const score = Number.parseFloat(group?.max_severity ?? "");
        let severity = Number.isFinite(score) && score > 0 ? severityFromScore(score) : "unknown";
        let severitySource = severity === "unknown" ? "osv" : "cvss";
        if (severity === "unknown") {
          const word = record.database_specific?.severity ?? record.database_specific?.urgency;
          severity = normalizeSeverity(word);
          severitySource = record.id.startsWith("GHSA-") ? "ghsa" : record.database_specific?.urgency !== undefined ? "debian" : "osv";
        }
        const aliases = new Set([...(record.aliases ?? []), ...(record.upstream ?? []), ...(record.related ?? []).filter((id) => /^(DSA|DLA)-/.test(id)), ...(group?.aliases ?? [])]);
        aliases.delete(record.id);
        const finding: Finding = {
          id: record.id,
          aliases: [...aliases].sort(),
          package: {
            name: binary,
            purl,
            type,
            installedVersion: pkg.version,
            ...(binary !== pkg.name ? { sourceName: pkg.name } : {}),
          },
          fixedVersions: fixedVersions(record, pkg.name, pkg.ecosystem),
          severity,
          severitySource,
          scanners: ["osv-scanner"],
        };
        const title = record.summary ?? record.details?.split("\n")[0];
        if (title !== undefined && title !== "") finding.title = title;
        if (layer !== undefined && layer !== "") finding.layer = { diffId: layer };
        findings.push(finding);
      }
    });
  });
  return findings;
}
