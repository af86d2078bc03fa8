// Merging what several scanners found into one list: the same advisory (by id or
// any alias) on the same package (by purl without qualifiers) is one finding.

import type { Finding, ScannerName } from "./model.ts";
import { compareFindings, severityRank } from "./model.ts";

/** `pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12` → `pkg:deb/debian/libc6@2.36-9`: scanners differ in qualifiers. */
export function purlKey(purl: string): string {
  const [bare = purl, query = ""] = purl.split("#")[0]?.split("?") ?? [purl];
  let key = decodeURIComponent(bare);
  // Debian epochs: trivy writes the purl spec's `?epoch=1` qualifier, others put `1:` (or
  // its encoding 1%3A) into the version. The key always has it in the version.
  const epoch = new URLSearchParams(query).get("epoch");
  if (epoch !== null && epoch !== "0") key = key.replace(/@(?!\d+:)/, `@${epoch}:`);
  return key.toLowerCase();
}

/** CVE ids first, then GHSA, then the rest: the id people search for. */
function idRank(id: string): number {
  if (id.startsWith("CVE-")) return 0;
  if (id.startsWith("GHSA-")) return 1;
  return 2;
}

export function preferredId(ids: Iterable<string>): string {
  return [...ids].sort((a, b) => idRank(a) - idRank(b) || a.localeCompare(b))[0] ?? "";
}

/** Ids that name the same vulnerability: DEBIAN-CVE-2023-1234 is CVE-2023-1234. */
export function relatedIds(finding: Pick<Finding, "id" | "aliases">): string[] {
  const ids = new Set([finding.id, ...finding.aliases]);
  for (const id of [...ids]) {
    const upstream = /^(?:DEBIAN|UBUNTU|DLA|ALPINE)-(CVE-\d{4}-\d+)$/.exec(id);
    if (upstream?.[1] !== undefined) ids.add(upstream[1]);
  }
  return [...ids];
}

function mergeTwo(into: Finding, from: Finding): Finding {
  const ids = new Set([...relatedIds(into), ...relatedIds(from)]);
  const id = preferredId(ids);
  ids.delete(id);
  // The higher rating wins, so a merge never hides a severity one scanner saw.
  const rated = severityRank(from.severity) > severityRank(into.severity) ? from : into;
  const scanners = [...new Set<ScannerName>([...into.scanners, ...from.scanners])].sort();
  const merged: Finding = {
    ...into,
    id,
    aliases: [...ids].sort(),
    fixedVersions: [...new Set([...into.fixedVersions, ...from.fixedVersions])].sort(),
    severity: rated.severity,
    severitySource: rated.severitySource,
    scanners,
  };
  const title = into.title ?? from.title;
  if (title !== undefined) merged.title = title;
  const layer = into.layer ?? from.layer;
  if (layer !== undefined) merged.layer = { ...from.layer, ...into.layer };
  const sourceName = into.package.sourceName ?? from.package.sourceName;
  const path = into.package.path ?? from.package.path;
  merged.package = { ...into.package, ...(sourceName === undefined ? {} : { sourceName }), ...(path === undefined ? {} : { path }) };
  return merged;
}

/** Merges findings from any number of scanners; the result is sorted most severe first. */
export function mergeFindings(findings: Iterable<Finding>): Finding[] {
  const merged: Finding[] = [];
  // purl key → id → index in merged
  const index = new Map<string, Map<string, number>>();
  for (const finding of findings) {
    const key = purlKey(finding.package.purl);
    const byId = index.get(key) ?? new Map<string, number>();
    index.set(key, byId);
    const ids = relatedIds(finding);
    const at = ids.map((id) => byId.get(id)).find((i) => i !== undefined);
    if (at === undefined) {
      const normalized = mergeTwo(finding, { ...finding, aliases: [], scanners: [] });
      merged.push(normalized);
      for (const id of relatedIds(normalized)) byId.set(id, merged.length - 1);
    } else {
      const existing = merged[at];
      if (existing === undefined) continue;
      const combined = mergeTwo(existing, finding);
      merged[at] = combined;
      for (const id of relatedIds(combined)) byId.set(id, at);
    }
  }
  return merged.sort(compareFindings);
}
