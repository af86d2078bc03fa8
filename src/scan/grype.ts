// grype: its image scan with auto-update off against a database given by path, and
// its JSON document (matches → vulnerability, related vulnerabilities, artifact) as findings.

import { ImagewrightError } from "../errors/index.ts";
import type { Finding } from "./model.ts";
import { normalizeSeverity } from "./model.ts";

interface GrypeVulnerability {
  id: string;
  namespace?: string;
  severity?: string;
  description?: string;
  fix?: { versions?: string[]; state?: string };
  advisories?: { id: string }[];
}

interface GrypeMatch {
  vulnerability: GrypeVulnerability;
  relatedVulnerabilities?: { id: string }[];
  artifact: { name: string; version: string; type: string; purl?: string; locations?: { path?: string; layerID?: string }[]; upstreams?: { name: string }[] };
}

interface GrypeDocument {
  matches?: GrypeMatch[];
  descriptor?: { name?: string; version?: string; db?: unknown };
}

/** `grype` arguments for a docker archive, JSON out; updates are refused through the environment. */
export function grypeArguments(archive: string): string[] {
  return [`docker-archive:${archive}`, "--output", "json", "--quiet"];
}

/** The environment that pins grype to the DB at `cacheDir` and forbids it to fetch or check for updates. */
export function grypeEnvironment(cacheDir: string): Record<string, string> {
  return {
    GRYPE_DB_CACHE_DIR: cacheDir,
    GRYPE_DB_AUTO_UPDATE: "false",
    GRYPE_DB_VALIDATE_AGE: "false",
    GRYPE_CHECK_FOR_APP_UPDATE: "false",
  };
}

export function parseGrypeReport(text: string, input = "grype report"): Finding[] {
  let document: GrypeDocument;
  try {
    document = JSON.parse(text) as GrypeDocument;
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `${input} is not JSON`, { input, place: `byte ${/position (\d+)/.exec(String(cause))?.[1] ?? 0}`, cause });
  }
  if (typeof document !== "object" || document === null || !Array.isArray(document.matches)) {
    throw new ImagewrightError("invalid-input", `${input} is not a grype JSON document`, { input, place: "$.matches" });
  }
  return document.matches.map((match, i) => {
    const v = match.vulnerability;
    const a = match.artifact;
    if (typeof v?.id !== "string" || typeof a?.name !== "string") {
      throw new ImagewrightError("invalid-input", `${input}: a match without vulnerability id or artifact name`, { input, place: `$.matches[${i}]` });
    }
    const aliases = new Set([...(match.relatedVulnerabilities ?? []).map((r) => r.id), ...(v.advisories ?? []).map((x) => x.id)]);
    aliases.delete(v.id);
    const purl = a.purl !== undefined && a.purl !== "" ? a.purl : `pkg:${a.type}/${a.name}@${a.version}`;
    const upstream = a.upstreams?.[0]?.name;
    const location = a.locations?.[0];
    const finding: Finding = {
      id: v.id,
      aliases: [...aliases].sort(),
      package: {
        name: a.name,
        purl,
        type: a.type === "java-archive" ? "maven" : a.type,
        installedVersion: a.version,
        ...(upstream !== undefined && upstream !== a.name ? { sourceName: upstream } : {}),
        ...(location?.path !== undefined && a.type !== "deb" ? { path: location.path.replace(/^\//, "") } : {}),
      },
      fixedVersions: v.fix?.state === "fixed" ? [...(v.fix.versions ?? [])] : [],
      severity: normalizeSeverity(v.severity),
      severitySource: v.namespace ?? "grype",
      scanners: ["grype"],
    };
    if (v.description !== undefined && v.description !== "") finding.title = v.description.split("\n")[0] ?? v.description;
    if (location?.layerID !== undefined) finding.layer = { diffId: location.layerID };
    return finding;
  });
}
