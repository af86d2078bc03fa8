// Scans kept in a state directory, one folder per scanned reference, so the next
// scan of the same reference says what is new, what was fixed and what remains.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ImagewrightError } from "../errors/index.ts";
import type { Finding } from "./model.ts";

export interface FindingChange {
  id: string;
  package: string;
  installedVersion: string;
  severity: Finding["severity"];
}

export interface ScanDifference {
  /** When the scan compared against ran; absent on the first scan of a reference. */
  previousScannedAt?: string;
  previousDigest?: string;
  new: FindingChange[];
  fixed: FindingChange[];
  remaining: number;
}

/** The default state directory: $IMAGEWRIGHT_STATE, else $XDG_STATE_HOME/imagewright. */
export function defaultStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env["IMAGEWRIGHT_STATE"] !== undefined && env["IMAGEWRIGHT_STATE"] !== "") return env["IMAGEWRIGHT_STATE"];
  return join(env["XDG_STATE_HOME"] ?? join(homedir(), ".local", "state"), "imagewright");
}

/** A folder name for a reference: readable, and distinct for distinct references. */
export function referenceKey(reference: string): string {
  return reference.replace(/[^A-Za-z0-9._-]+/g, "_");
}

/** A package across versions: the fix of a finding changes the version, not this. */
function identity(finding: Finding): string {
  return `${finding.id}\u0000${finding.package.type}\u0000${finding.package.name}`;
}

function change(finding: Finding): FindingChange {
  return { id: finding.id, package: finding.package.name, installedVersion: finding.package.installedVersion, severity: finding.severity };
}

/** New, fixed and remaining findings between two scans (ignored findings count as present). */
export function difference(previous: { scannedAt: string; digest: string; findings: readonly Finding[] } | undefined, current: readonly Finding[]): ScanDifference {
  if (previous === undefined) return { new: current.map(change), fixed: [], remaining: 0 };
  const before = new Map(previous.findings.map((f) => [identity(f), f]));
  const now = new Map(current.map((f) => [identity(f), f]));
  return {
    previousScannedAt: previous.scannedAt,
    previousDigest: previous.digest,
    new: current.filter((f) => !before.has(identity(f))).map(change),
    fixed: previous.findings.filter((f) => !now.has(identity(f))).map(change),
    remaining: current.filter((f) => before.has(identity(f))).length,
  };
}

/** What a kept scan must have for the next comparison; the rest of the ImageScan is kept too. */
export interface StoredScan {
  reference: string;
  digest: string;
  scannedAt: string;
  findings: Finding[];
}

/** The newest kept scan of `reference`, if any. */
export async function latestScan(state: string, reference: string): Promise<StoredScan | undefined> {
  const path = join(state, "scans", referenceKey(reference), "latest.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as StoredScan;
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `kept scan ${path} is not JSON`, { input: path, hint: "delete it; the next scan starts a new history", cause });
  }
}

/** Keeps a scan: a dated file (history) and latest.json (what the next scan compares to). */
export async function keepScan<T extends StoredScan>(state: string, scan: T): Promise<string> {
  const dir = join(state, "scans", referenceKey(scan.reference));
  await mkdir(dir, { recursive: true });
  const body = JSON.stringify(scan, null, 2) + "\n";
  const dated = join(dir, `${scan.scannedAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(dated, body);
  // Written then renamed: a reader never sees half a file.
  const temporary = join(dir, `.latest.${process.pid}.json`);
  await writeFile(temporary, body);
  await rename(temporary, join(dir, "latest.json"));
  return dated;
}
