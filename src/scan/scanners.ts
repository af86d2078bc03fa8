// The scanners imagewright drives: where each keeps its database (given by path,
// never downloaded), how fresh that database is, and one run against an image.
// A missing program or database, or a stale one, is a ScannerStatus, not a throw.

import { readFile, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { grypeArguments, grypeEnvironment, parseGrypeReport } from "./grype.ts";
import type { Finding, ScannerName, ScannerStatus } from "./model.ts";
import { osvArguments, parseOsvReport } from "./osv.ts";
import { findProgram, runProgram, versionLine } from "./tools.ts";
import { parseTrivyReport, trivyArguments } from "./trivy.ts";

export interface DatabaseCheck {
  state: "ok" | "database-missing" | "database-stale";
  /** The directory handed to the scanner. */
  path: string;
  updatedAt?: string;
  detail?: string;
}

export interface ScannerRun {
  status: ScannerStatus;
  findings: Finding[];
  /** The scanner's own report, kept for the SBOM fallback and for debugging. */
  raw?: string;
}

interface ScannerAdapter {
  name: ScannerName;
  program: string;
  /** Environment variable naming the database when no option does. */
  databaseVariable: string;
  checkDatabase(path: string, program: string, env: NodeJS.ProcessEnv): Promise<Omit<DatabaseCheck, "state"> & { state: "ok" | "database-missing" }>;
  run(program: string, archive: string, database: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; seconds: number }>;
  parse(text: string, input: string): Finding[];
  versionArguments: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const trivy: ScannerAdapter = {
  name: "trivy",
  program: "trivy",
  databaseVariable: "IMAGEWRIGHT_TRIVY_DB",
  versionArguments: ["--version"],
  async checkDatabase(path) {
    // Accept trivy's cache directory (holding db/) or the db/ directory itself.
    const cacheDir = basename(path) === "db" && (await exists(join(path, "trivy.db"))) ? dirname(path) : path;
    const db = join(cacheDir, "db", "trivy.db");
    if (!(await exists(db))) return { state: "database-missing", path: cacheDir, detail: `no ${db}` };
    let metadata: { Version?: number; UpdatedAt?: string };
    try {
      metadata = JSON.parse(await readFile(join(cacheDir, "db", "metadata.json"), "utf8")) as typeof metadata;
    } catch (error) {
      return { state: "database-missing", path: cacheDir, detail: `unreadable ${join(cacheDir, "db", "metadata.json")}: ${(error as Error).message}` };
    }
    if (metadata.Version !== 2) return { state: "database-missing", path: cacheDir, detail: `trivy DB schema ${String(metadata.Version)}; this trivy reads schema 2` };
    return { state: "ok", path: cacheDir, ...(metadata.UpdatedAt === undefined ? {} : { updatedAt: metadata.UpdatedAt }) };
  },
  run: (program, archive, database, env) => runProgram(program, trivyArguments(archive, database), { env }),
  parse: parseTrivyReport,
};

const osvScanner: ScannerAdapter = {
  name: "osv-scanner",
  program: "osv-scanner",
  databaseVariable: "IMAGEWRIGHT_OSV_DB",
  versionArguments: ["--version"],
  async checkDatabase(path) {
    // osv-scanner v2 reads <local-db-path>/osv-scalibr/<Ecosystem>/all.zip (osv-scalibr's
    // matcher); v1 read <local-db-path>/osv-scanner/<Ecosystem>/all.zip.
    const layouts = ["osv-scalibr", "osv-scanner"];
    let newest = 0;
    for (const layout of layouts) {
      let ecosystems: string[];
      try {
        ecosystems = await readdir(join(path, layout));
      } catch {
        continue;
      }
      for (const ecosystem of ecosystems) {
        try {
          newest = Math.max(newest, (await stat(join(path, layout, ecosystem, "all.zip"))).mtimeMs);
        } catch {
          // an ecosystem folder without its zip: not a database
        }
      }
    }
    if (newest === 0) return { state: "database-missing", path, detail: `no ${join(path, "osv-scalibr")}/<ecosystem>/all.zip` };
    return { state: "ok", path, updatedAt: new Date(newest).toISOString() };
  },
  run: (program, archive, database, env) => runProgram(program, osvArguments(archive, database), { env }),
  parse: parseOsvReport,
};

const grype: ScannerAdapter = {
  name: "grype",
  program: "grype",
  databaseVariable: "IMAGEWRIGHT_GRYPE_DB",
  versionArguments: ["version"],
  async checkDatabase(path, program, env) {
    const status = await runProgram(program, ["db", "status", "--output", "json"], { env: { ...env, ...grypeEnvironment(path) }, timeoutMs: 60_000 });
    let parsed: { built?: string; path?: string; error?: string };
    try {
      parsed = JSON.parse(status.stdout) as typeof parsed;
    } catch {
      return { state: "database-missing", path, detail: `grype db status: ${status.stderr.trim().split("\n").at(-1) ?? `exit ${status.code}`}` };
    }
    if (status.code !== 0 || (parsed.error !== undefined && parsed.error !== "")) return { state: "database-missing", path, detail: `grype db status: ${parsed.error ?? `exit ${status.code}`}` };
    return { state: "ok", path, ...(parsed.built === undefined ? {} : { updatedAt: parsed.built }) };
  },
  run: (program, archive, database, env) => runProgram(program, grypeArguments(archive), { env: { ...env, ...grypeEnvironment(database) } }),
  parse: parseGrypeReport,
};

export const ADAPTERS: Readonly<Record<ScannerName, ScannerAdapter>> = { trivy, grype, "osv-scanner": osvScanner };

export interface ScannerSetup {
  /** Database path per scanner; falls back to IMAGEWRIGHT_<SCANNER>_DB, then <databaseRoot>/<scanner>. */
  databases: Partial<Record<ScannerName, string>>;
  databaseRoot?: string;
  /** A database older than this is stale: the scan does not trust it. */
  maxDatabaseAgeMs: number;
  now: Date;
  env: NodeJS.ProcessEnv;
}

export function databasePath(name: ScannerName, setup: ScannerSetup): string | undefined {
  const adapter = ADAPTERS[name];
  const given = setup.databases[name] ?? setup.env[adapter.databaseVariable];
  if (given !== undefined && given !== "") return given;
  if (setup.databaseRoot !== undefined) return join(setup.databaseRoot, name);
  return undefined;
}

/**
 * The scanner's version as it reports it; else the version stack/tools.sh recorded beside
 * the binary (`.<name>.version`: trivy built from module source prints "dev").
 */
async function programVersion(program: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const run = await runProgram(program, args, { env, timeoutMs: 60_000 }).catch(() => undefined);
  const reported = run === undefined ? undefined : versionLine(run.stdout + run.stderr);
  if (reported !== undefined) return reported;
  try {
    const recorded = await readFile(join(dirname(program), `.${basename(program)}.version`), "utf8");
    return versionLine(recorded);
  } catch {
    return undefined;
  }
}

export interface PreparedScanner {
  name: ScannerName;
  program?: string;
  database?: DatabaseCheck;
  /** Set when the scanner cannot run: its status says why. */
  unavailable?: ScannerStatus;
  version?: string;
}

/** Finds the program and checks its database once per `scan`, before any image is touched. */
export async function prepareScanner(name: ScannerName, setup: ScannerSetup): Promise<PreparedScanner> {
  const adapter = ADAPTERS[name];
  const program = await findProgram(adapter.program, setup.env);
  if (program === undefined) {
    return { name, unavailable: { scanner: name, state: "missing", detail: `${adapter.program} not found in the tools directory or on PATH (stack/tools.sh scanners builds it)`, findings: 0 } };
  }
  const version = await programVersion(program, adapter.versionArguments, setup.env);
  const base = { name, program, ...(version === undefined ? {} : { version }) };
  const path = databasePath(name, setup);
  if (path === undefined) {
    return { ...base, unavailable: { scanner: name, state: "database-missing", ...(version === undefined ? {} : { version }), detail: `no database given: --db ${name}=<path>, ${adapter.databaseVariable} or --db-root`, findings: 0 } };
  }
  const checked = await adapter.checkDatabase(path, program, setup.env);
  let database: DatabaseCheck = checked;
  if (checked.state === "ok" && checked.updatedAt !== undefined) {
    const age = setup.now.getTime() - Date.parse(checked.updatedAt);
    if (!(age <= setup.maxDatabaseAgeMs)) {
      database = { ...checked, state: "database-stale", detail: `built ${checked.updatedAt}, ${Math.round(age / 3_600_000)} h ago; the limit is ${Math.round(setup.maxDatabaseAgeMs / 3_600_000)} h (--max-db-age)` };
    }
  }
  if (database.state !== "ok") {
    return {
      ...base,
      database,
      unavailable: {
        scanner: name,
        state: database.state,
        ...(version === undefined ? {} : { version }),
        database: { path: database.path, ...(database.updatedAt === undefined ? {} : { updatedAt: database.updatedAt }) },
        ...(database.detail === undefined ? {} : { detail: database.detail }),
        findings: 0,
      },
    };
  }
  return { ...base, database };
}

/** Runs a prepared scanner over a docker archive. A scanner that fails is a status, not a throw. */
export async function runScanner(prepared: PreparedScanner, archive: string, env: NodeJS.ProcessEnv): Promise<ScannerRun> {
  if (prepared.unavailable !== undefined || prepared.program === undefined || prepared.database === undefined) {
    return { status: prepared.unavailable ?? { scanner: prepared.name, state: "missing", findings: 0 }, findings: [] };
  }
  const adapter = ADAPTERS[prepared.name];
  const database = { path: prepared.database.path, ...(prepared.database.updatedAt === undefined ? {} : { updatedAt: prepared.database.updatedAt }) };
  const base = { scanner: prepared.name, ...(prepared.version === undefined ? {} : { version: prepared.version }), database };
  const run = await adapter.run(prepared.program, archive, prepared.database.path, env);
  // osv-scanner exits 1 when it found vulnerabilities; anything else non-zero is a failure.
  const acceptable = run.code === 0 || (prepared.name === "osv-scanner" && run.code === 1);
  if (!acceptable) {
    const reason = run.stderr.trim().split("\n").filter((line) => line.trim() !== "").slice(-3).join(" | ");
    return { status: { ...base, state: "failed", detail: `exit ${run.code}: ${reason}`, findings: 0, seconds: run.seconds }, findings: [], raw: run.stdout };
  }
  try {
    const findings = adapter.parse(run.stdout, `${prepared.name} report`);
    return { status: { ...base, state: "ok", findings: findings.length, seconds: run.seconds }, findings, raw: run.stdout };
  } catch (error) {
    return { status: { ...base, state: "failed", detail: (error as Error).message, findings: 0, seconds: run.seconds }, findings: [], raw: run.stdout };
  }
}
