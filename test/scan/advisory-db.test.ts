// The local advisory database's sources read as the Debian tracker writes them, and
// turn into the release-by-release statements the negative cases rely on.

import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseTrackerList, writeScannerInputs } from "./advisory-db.ts";

const FIXTURES = fileURLToPath(new URL("../../fixtures/advisories", import.meta.url));

test("tracker lines become trivy-db's vuln-list annotations", () => {
  const [entry] = parseTrackerList(
    "CVE-2011-3374 (It was found that apt-key in apt, all versions, do not correctly valid ...)\n\t- apt <unfixed> (unimportant; bug #642480)\n\t[bookworm] - apt 2.6.1\n\tNOTE: Not exploitable\n",
    "CVE.list",
  );
  assert.equal(entry?.Header.ID, "CVE-2011-3374");
  assert.deepEqual(entry?.Annotations.map((a) => [a.Type, a.Release, a.Package, a.Kind, a.Version, a.Severity, a.Bugs]), [
    ["package", undefined, "apt", "unfixed", undefined, "unimportant", ["642480"]],
    ["package", "bookworm", "apt", "fixed", "2.6.1", undefined, undefined],
    ["NOTE", undefined, undefined, undefined, undefined, undefined, undefined],
  ]);
  assert.throws(() => parseTrackerList("CVE-1 (x)\n\t? apt\n", "CVE.list"), /CVE\.list:2: not a package annotation/);
});

test("the fixtures give osv-scanner release-specific Debian records: DSA fixes, unfixed CVEs, another release only", async (t) => {
  const out = await mkdtemp(join(tmpdir(), "imagewright-advisories-"));
  t.after(() => rm(out, { recursive: true, force: true }));
  const counts = writeScannerInputs(FIXTURES, out);
  assert.ok(counts.osvDebian >= 8 && counts.ghsa >= 5, JSON.stringify(counts));
  const record = async (id: string): Promise<{ affected: { package: { ecosystem: string; name: string }; ranges: { events: Record<string, string>[] }[] }[]; related: string[] }> =>
    JSON.parse(await readFile(join(out, "osv/Debian", `${id}.json`), "utf8")) as never;
  const byRelease = (r: Awaited<ReturnType<typeof record>>): Record<string, string | null> =>
    Object.fromEntries(r.affected.map((a) => [a.package.ecosystem, a.ranges[0]?.events.find((e) => e["fixed"] !== undefined)?.["fixed"] ?? null]));

  // glibc: the DSA's bookworm fix (installed in the base image, so a negative case)
  const glibc = await record("DEBIAN-CVE-2023-4911");
  assert.equal(byRelease(glibc)["Debian:12"], "2.36-9+deb12u3");
  assert.deepEqual(glibc.related, ["DSA-5514-1"]);
  // zlib: ignored in bookworm, so affected with no fix
  assert.equal(byRelease(await record("DEBIAN-CVE-2023-45853"))["Debian:12"], null);
  // xz: bookworm not affected; only trixie's record names a fix newer than bookworm's version
  assert.deepEqual(byRelease(await record("DEBIAN-CVE-2024-3094")), { "Debian:13": "5.6.1+really5.4.5-1" });
  // the trivy side: one vuln-list file per CVE and DSA, and GHSA records under their dates
  assert.ok((await readdir(join(out, "vuln-list/vuln-list-debian/tracker/CVE"))).includes("CVE-2024-3094.json"));
  assert.ok((await readdir(join(out, "vuln-list/ghsa/advisories/github-reviewed/2025/05"))).includes("GHSA-wxr5-93ph-8wr9"));
});
