// Turns the real advisories in fixtures/advisories (Debian security tracker text,
// NVD API 2.0 records, GitHub OSV records) into the inputs each scanner's offline
// database is built from: vuln-list trees for trivy-db and OSV zips for osv-scanner.
// Run by stack/scanners-db.sh:  node test/scan/advisory-db.ts <fixtures> <out>

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { crc32, deflateRawSync } from "node:zlib";

/** Releases the fixtures speak about: tracker code name → Debian major version. */
const RELEASES: Readonly<Record<string, string>> = { bullseye: "11", bookworm: "12", trixie: "13" };

interface Annotation {
  Original: string;
  Line: number;
  Type: "package" | "xref" | "NOTE";
  Release?: string;
  Package?: string;
  Kind?: string;
  Version?: string;
  Description?: string;
  Severity?: string;
  Bugs?: string[];
}

export interface TrackerEntry {
  Header: { Original: string; Line: number; ID: string; Description: string };
  Annotations: Annotation[];
}

/**
 * Parses the security tracker's data/CVE/list or data/DSA/list text: a header line per
 * entry, then tab-indented `[release] - package version|<status> (note)`, `{xrefs}` and NOTE lines.
 */
export function parseTrackerList(text: string, file: string): TrackerEntry[] {
  const entries: TrackerEntry[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    if (!raw.startsWith("\t")) {
      const header = /^(?:\[[^\]]+\]\s+)?((?:CVE|DSA|DLA)-[0-9-]+)\s*(.*)$/.exec(raw);
      if (header === null) throw new Error(`${file}:${line}: not a tracker header: ${raw}`);
      entries.push({
        Header: { Original: raw, Line: line, ID: header[1] ?? "", Description: header[2] ?? "" },
        Annotations: [],
      });
      return;
    }
    const entry = entries.at(-1);
    if (entry === undefined) throw new Error(`${file}:${line}: annotation before any header`);
    const body = raw.trim();
    if (body.startsWith("NOTE:")) {
      entry.Annotations.push({ Original: body, Line: line, Type: "NOTE", Description: body.slice(5).trim() });
      return;
    }
    const xref = /^\{(.*)\}$/.exec(body);
    if (xref !== null) {
      entry.Annotations.push({ Original: body, Line: line, Type: "xref", Bugs: (xref[1] ?? "").split(/\s+/).filter(Boolean) });
      return;
    }
    const pkg = /^(?:\[(\w+)\]\s+)?-\s+(\S+)(?:\s+(<[a-z-]+>|\S+))?(?:\s+\((.*)\))?$/.exec(body);
    if (pkg === null) throw new Error(`${file}:${line}: not a package annotation: ${body}`);
    const [, release, name, state, note] = pkg;
    const annotation: Annotation = { Original: body, Line: line, Type: "package", Package: name ?? "" };
    if (release !== undefined) annotation.Release = release;
    if (state === undefined || state.startsWith("<")) {
      annotation.Kind = state === undefined ? "unfixed" : state.slice(1, -1);
    } else {
      annotation.Kind = "fixed";
      annotation.Version = state;
    }
    if (note !== undefined) {
      annotation.Description = note;
      const urgency = /^(unimportant|low|medium|high)\b/.exec(note);
      if (urgency !== null) annotation.Severity = urgency[1] ?? "";
      const bugs = [...note.matchAll(/bug #(\d+)/g)].map((match) => match[1] ?? "");
      if (bugs.length > 0) annotation.Bugs = bugs;
    }
    entry.Annotations.push(annotation);
  });
  return entries;
}

/** Debian Sources stanzas (Package:, Version:) → package → version. */
export function parseSources(text: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    if (name !== undefined && version !== undefined) versions.set(name, version);
  }
  return versions;
}

interface NvdRecord {
  id: string;
  published: string;
  descriptions: { lang: string; value: string }[];
  metrics: Record<string, { cvssData: { vectorString: string; baseSeverity: string } }[]>;
}

interface OsvRecord {
  id: string;
  aliases?: string[];
  upstream?: string[];
  related?: string[];
  [key: string]: unknown;
}

/** The advisory status of one source package in one release, as the tracker decides it. */
interface ReleaseStatus {
  fixed?: string;
  affected: boolean;
  dsas: string[];
}

function releaseStatuses(cve: TrackerEntry, dsas: readonly TrackerEntry[], sources: ReadonlyMap<string, Map<string, string>>): Map<string, Map<string, ReleaseStatus>> {
  // package → release → status
  const result = new Map<string, Map<string, ReleaseStatus>>();
  const packages = new Set(cve.Annotations.filter((a) => a.Type === "package").map((a) => a.Package ?? ""));
  for (const name of packages) {
    const perRelease = new Map<string, ReleaseStatus>();
    const sid = cve.Annotations.find((a) => a.Type === "package" && a.Package === name && a.Release === undefined);
    for (const release of Object.keys(RELEASES)) {
      const own = cve.Annotations.find((a) => a.Type === "package" && a.Package === name && a.Release === release);
      const fromDsa = dsas
        .filter((dsa) => dsa.Annotations.some((a) => a.Type === "xref" && a.Bugs?.includes(cve.Header.ID)))
        .flatMap((dsa) =>
          dsa.Annotations.filter((a) => a.Type === "package" && a.Package === name && a.Release === release).map((a) => ({ dsa: dsa.Header.ID, version: a.Version })),
        );
      if (fromDsa.length > 0) {
        perRelease.set(release, { affected: true, fixed: fromDsa[0]?.version ?? "", dsas: fromDsa.map((d) => d.dsa) });
      } else if (own !== undefined) {
        if (own.Kind === "not-affected" || own.Kind === "undetermined") continue;
        perRelease.set(release, own.Kind === "fixed" ? { affected: true, fixed: own.Version ?? "", dsas: [] } : { affected: true, dsas: [] });
      } else if (sid !== undefined && sid.Kind !== "not-affected" && sources.get(release)?.has(name) === true) {
        // The release has the package and no statement of its own: unstable's state applies,
        // unfixed there means unfixed here (the tracker's view, and trivy-db's).
        perRelease.set(release, sid.Kind === "fixed" ? { affected: true, fixed: sid.Version ?? "", dsas: [] } : { affected: true, dsas: [] });
      }
    }
    result.set(name, perRelease);
  }
  return result;
}

/** OSV records for osv-scanner's Debian ecosystem, one per CVE (DEBIAN-CVE-…), like osv.dev publishes. */
export function debianOsv(cves: readonly TrackerEntry[], dsas: readonly TrackerEntry[], sources: ReadonlyMap<string, Map<string, string>>, nvd: ReadonlyMap<string, NvdRecord>): OsvRecord[] {
  const records: OsvRecord[] = [];
  for (const cve of cves) {
    const statuses = releaseStatuses(cve, dsas, sources);
    const affected: unknown[] = [];
    const related = new Set<string>();
    for (const [name, perRelease] of statuses) {
      for (const [release, status] of perRelease) {
        status.dsas.forEach((dsa) => related.add(dsa));
        const events: Record<string, string>[] = [{ introduced: "0" }];
        if (status.fixed !== undefined) events.push({ fixed: status.fixed });
        affected.push({
          package: { ecosystem: `Debian:${RELEASES[release] ?? ""}`, name, purl: `pkg:deb/debian/${name}?arch=source` },
          ranges: [{ type: "ECOSYSTEM", events }],
        });
      }
    }
    if (affected.length === 0) continue;
    const nvdRecord = nvd.get(cve.Header.ID);
    const vector = nvdRecord === undefined ? undefined : Object.values(nvdRecord.metrics).flat()[0]?.cvssData.vectorString;
    const urgency = cve.Annotations.find((a) => a.Type === "package" && a.Severity !== undefined)?.Severity;
    // NVD writes local times without a zone ("2019-11-26T00:15:11.037"); OSV wants RFC 3339.
    const published = nvdRecord === undefined ? "2024-01-01T00:00:00Z" : `${nvdRecord.published.replace(/\.\d+$/, "")}Z`;
    records.push({
      schema_version: "1.6.0",
      id: `DEBIAN-${cve.Header.ID}`,
      modified: published,
      published,
      upstream: [cve.Header.ID],
      related: [...related],
      details: nvdRecord?.descriptions.find((d) => d.lang === "en")?.value ?? cve.Header.Description.replace(/^\(|\)$/g, ""),
      ...(vector === undefined ? {} : { severity: [{ type: vector.startsWith("CVSS:3") ? "CVSS_V3" : "CVSS_V2", score: vector }] }),
      affected,
      references: [{ type: "ADVISORY", url: `https://security-tracker.debian.org/tracker/${cve.Header.ID}` }],
      ...(urgency === undefined ? {} : { database_specific: { urgency } }),
    });
  }
  return records;
}

/**
 * A zip archive of `files` (deflated, fixed timestamps) — osv-scanner's all.zip. Written
 * here so the stack needs no zip program.
 */
export function zipArchive(files: readonly { name: string; data: Buffer }[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const dosTime = 0; // 00:00:00
  const dosDate = (2024 - 1980) << 9 | 1 << 5 | 1; // 2024-01-01
  for (const file of files) {
    const name = Buffer.from(file.name, "utf8");
    const compressed = deflateRawSync(file.data);
    const crc = crc32(file.data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4); // version needed
    header.writeUInt16LE(0x0800, 6); // UTF-8 names
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt16LE(dosTime, 10);
    header.writeUInt16LE(dosDate, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(compressed.length, 18);
    header.writeUInt32LE(file.data.length, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(0, 28);
    local.push(header, name, compressed);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // version made by
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt16LE(dosTime, 12);
    entry.writeUInt16LE(dosDate, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(compressed.length, 20);
    entry.writeUInt32LE(file.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += header.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}

function readDir(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
}

/** Writes <out>/vuln-list (trivy-db's input) and <out>/osv-scalibr/<Ecosystem>/all.zip (osv-scanner's local DB). */
export function writeScannerInputs(fixtures: string, out: string): { debian: number; nvd: number; ghsa: number; osvDebian: number } {
  const cves = parseTrackerList(readFileSync(join(fixtures, "debian/CVE.list"), "utf8"), "debian/CVE.list");
  const dsas = parseTrackerList(readFileSync(join(fixtures, "debian/DSA.list"), "utf8"), "debian/DSA.list");
  const sources = new Map<string, Map<string, string>>();
  for (const release of Object.keys(RELEASES)) {
    const path = join(fixtures, `debian/Sources.${release}`);
    try {
      sources.set(release, parseSources(readFileSync(path, "utf8")));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  const nvd = new Map<string, NvdRecord>();
  for (const name of readDir(join(fixtures, "nvd"))) {
    const record = JSON.parse(readFileSync(join(fixtures, "nvd", name), "utf8")) as NvdRecord;
    nvd.set(record.id, record);
  }

  const tracker = join(out, "vuln-list/vuln-list-debian/tracker");
  writeJson(
    join(tracker, "distributions.json"),
    Object.fromEntries(Object.entries(RELEASES).map(([code, major]) => [code, { "major-version": major, support: "security", contact: "team@security.debian.org" }])),
  );
  for (const entry of cves) writeJson(join(tracker, "CVE", `${entry.Header.ID}.json`), entry);
  for (const entry of dsas) writeJson(join(tracker, "DSA", `${entry.Header.ID}.json`), entry);
  // trivy-db walks these whether or not there is anything to read in them.
  mkdirSync(join(tracker, "DLA"), { recursive: true });
  mkdirSync(join(out, "vuln-list/cocoapods-specs/Specs"), { recursive: true });
  for (const [release, versions] of sources) {
    for (const [name, version] of versions) {
      writeJson(join(tracker, "source", release, "main", name.slice(0, name.startsWith("lib") ? 4 : 1), `${name}.json`), { Package: [name], Version: [version] });
    }
  }
  for (const record of nvd.values()) writeJson(join(out, "vuln-list/vuln-list-nvd/api", record.id.slice(4, 8), `${record.id}.json`), record);

  const ghsa = readDir(join(fixtures, "ghsa"));
  for (const name of ghsa) {
    const record = JSON.parse(readFileSync(join(fixtures, "ghsa", name), "utf8")) as OsvRecord & { published: string };
    const [year, month] = record.published.split("-");
    writeJson(join(out, "vuln-list/ghsa/advisories/github-reviewed", year ?? "", month ?? "", record.id, `${record.id}.json`), record);
    writeJson(join(out, "osv/Maven", `${record.id}.json`), record);
  }
  const osvDebian = debianOsv(cves, dsas, sources, nvd);
  for (const record of osvDebian) writeJson(join(out, "osv/Debian", `${record.id}.json`), record);
  for (const ecosystem of readdirSync(join(out, "osv"))) {
    const dir = join(out, "osv", ecosystem);
    const zip = zipArchive(readDir(dir).map((name) => ({ name, data: readFileSync(join(dir, name)) })));
    mkdirSync(join(out, "osv-scalibr", ecosystem), { recursive: true });
    writeFileSync(join(out, "osv-scalibr", ecosystem, "all.zip"), zip);
  }
  return { debian: cves.length + dsas.length, nvd: nvd.size, ghsa: ghsa.length, osvDebian: osvDebian.length };
}

function* jarsUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jarsUnder(path);
    else if (entry.name.endsWith(".jar") && !/-(sources|javadoc|tests)\.jar$/.test(entry.name)) yield path;
  }
}

/**
 * trivy's Java DB (trivy-java-db's sqlite schema 1): the sha1 → Maven coordinates index
 * trivy needs to name jars without pom.properties (kafka-clients has none). Built from a
 * local Maven repository of jars fetched from Maven Central, which is what the published
 * DB indexes. Returns the number of jars indexed.
 */
export function writeTrivyJavaDb(mavenRepository: string, dbDir: string): number {
  mkdirSync(dbDir, { recursive: true });
  const db = new DatabaseSync(join(dbDir, "trivy-java.db"));
  db.exec(`CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
    CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT, foreign key (artifact_id) references artifacts(id));
    CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
    CREATE INDEX indices_artifact_idx ON indices(artifact_id);
    CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);`);
  const artifact = db.prepare("INSERT OR IGNORE INTO artifacts(group_id, artifact_id) VALUES (?, ?)");
  const index = db.prepare(
    "INSERT INTO indices(artifact_id, version, sha1, archive_type) VALUES ((SELECT id FROM artifacts WHERE group_id=? AND artifact_id=?), ?, ?, 'jar') ON CONFLICT(sha1) DO NOTHING",
  );
  let count = 0;
  for (const jar of jarsUnder(mavenRepository)) {
    // <repo>/<group path>/<artifact>/<version>/<artifact>-<version>[-classifier].jar
    const parts = relative(mavenRepository, jar).split(sep);
    if (parts.length < 4) continue;
    const version = parts.at(-2) ?? "";
    const artifactId = parts.at(-3) ?? "";
    const groupId = parts.slice(0, -3).join(".");
    const sha1 = createHash("sha1").update(readFileSync(jar)).digest();
    artifact.run(groupId, artifactId);
    index.run(groupId, artifactId, version, sha1);
    count++;
  }
  db.close();
  return count;
}

if (import.meta.filename === process.argv[1]) {
  const [fixtures, out, mavenRepository] = process.argv.slice(2);
  if (fixtures === undefined || out === undefined) {
    process.stderr.write("usage: node test/scan/advisory-db.ts <fixtures/advisories> <out> [maven repository]\n");
    process.exit(2);
  }
  const written = writeScannerInputs(fixtures, out);
  const jars = mavenRepository === undefined ? 0 : writeTrivyJavaDb(mavenRepository, join(out, "java-db"));
  process.stdout.write(JSON.stringify({ ...written, jars }) + "\n");
}
