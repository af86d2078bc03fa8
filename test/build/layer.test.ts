// Reproducible layers: the same files give the same bytes whatever their mtimes,
// location or umask; what the layer keeps (modes, links, owners) is read back.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, chown, link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { buildLayer, type LayerOptions } from "../../src/build/layer.ts";
import { resolveSourceDateEpoch } from "../../src/build/epoch.ts";
import { ImagewrightError } from "../../src/errors/index.ts";

const run = promisify(execFile);

let work: string;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-layer-test-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes the same small tree (explicit modes) with the given umask and mtime. */
async function makeTree(root: string, options: { umask: number; mtime: number; content?: string; chmod?: boolean }): Promise<string> {
  const previous = process.umask(options.umask);
  try {
    await mkdir(path.join(root, "bin"), { recursive: true });
    await mkdir(path.join(root, "conf", "empty"), { recursive: true });
    await writeFile(path.join(root, "bin", "server"), "#!/bin/sh\necho server\n");
    await writeFile(path.join(root, "conf", "server.properties"), options.content ?? "port=9092\n");
    await writeFile(path.join(root, "conf", "secret"), "s3cr3t\n");
    await writeFile(path.join(root, "Zeta"), "capital letters sort before lower case\n");
    await symlink("server", path.join(root, "bin", "start"));
    await symlink("/etc/passwd", path.join(root, "conf", "absolute-link"));
    await link(path.join(root, "bin", "server"), path.join(root, "bin", "server-hardlink"));
  } finally {
    process.umask(previous);
  }
  if (options.chmod !== false) {
    await chmod(root, 0o755);
    for (const dir of ["bin", "conf", "conf/empty"]) await chmod(path.join(root, dir), 0o755);
    await chmod(path.join(root, "bin", "server"), 0o755);
    await chmod(path.join(root, "conf", "server.properties"), 0o644);
    await chmod(path.join(root, "conf", "secret"), 0o600);
    await chmod(path.join(root, "Zeta"), 0o644);
  }
  for (const file of ["bin", "bin/server", "conf", "conf/empty", "conf/server.properties", "conf/secret", "Zeta", "."]) {
    await utimes(path.join(root, file), options.mtime, options.mtime);
  }
  return root;
}

interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  mtime: number;
  linkname: string;
  content: string;
}

async function readLayer(file: string): Promise<ReadEntry[]> {
  const tarBytes = gunzipSync(await readFile(file));
  const extract = tar.extract();
  const entries: ReadEntry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      entries.push({
        name: h.name,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        uname: h.uname,
        mtime: h.mtime.getTime() / 1000,
        linkname: h.linkname ?? "",
        content: Buffer.concat(chunks).toString(),
      });
    }
  })();
  extract.end(tarBytes);
  await done;
  return entries;
}

const options: LayerOptions = { sourceDateEpoch: 0 };

describe("reproducible layers", () => {
  test("the same tree gives the same digest twice, and across directories, mtimes and umasks", async () => {
    const a = await makeTree(path.join(work, "repro-a"), { umask: 0o022, mtime: 1_700_000_000 });
    const b = await makeTree(path.join(work, "elsewhere", "repro-b"), { umask: 0o077, mtime: 1_750_000_000 });
    const first = await buildLayer({ source: a, destination: "/opt/app" }, options, path.join(work, "a1.tgz"));
    const again = await buildLayer({ source: a, destination: "/opt/app" }, options, path.join(work, "a2.tgz"));
    const other = await buildLayer({ source: b, destination: "/opt/app" }, options, path.join(work, "b1.tgz"));
    assert.equal(again.descriptor.digest, first.descriptor.digest);
    assert.equal(other.descriptor.digest, first.descriptor.digest);
    assert.equal(other.diffId, first.diffId);
    assert.deepEqual(await readFile(path.join(work, "b1.tgz")), await readFile(path.join(work, "a1.tgz")));
  });

  test("a changed file, destination or epoch gives a different digest", async () => {
    const a = await makeTree(path.join(work, "change-a"), { umask: 0o022, mtime: 1_700_000_000 });
    const b = await makeTree(path.join(work, "change-b"), { umask: 0o022, mtime: 1_700_000_000, content: "port=9093\n" });
    const base = await buildLayer({ source: a, destination: "/opt/app" }, options, path.join(work, "c1.tgz"));
    const content = await buildLayer({ source: b, destination: "/opt/app" }, options, path.join(work, "c2.tgz"));
    const moved = await buildLayer({ source: a, destination: "/opt/other" }, options, path.join(work, "c3.tgz"));
    const later = await buildLayer({ source: a, destination: "/opt/app" }, { sourceDateEpoch: 1_600_000_000 }, path.join(work, "c4.tgz"));
    const digests = new Set([base, content, moved, later].map((layer) => layer.descriptor.digest));
    assert.equal(digests.size, 4);
  });

  test("normalised modes make trees written under different umasks identical", async () => {
    const a = await makeTree(path.join(work, "umask-a"), { umask: 0o022, mtime: 1_700_000_000, chmod: false });
    const b = await makeTree(path.join(work, "umask-b"), { umask: 0o002, mtime: 1_700_000_000, chmod: false });
    await chmod(path.join(a, "bin", "server"), 0o755);
    await chmod(path.join(b, "bin", "server"), 0o775);
    const kept = await buildLayer({ source: a, destination: "/app" }, options, path.join(work, "u0.tgz"));
    const keptB = await buildLayer({ source: b, destination: "/app" }, options, path.join(work, "u1.tgz"));
    assert.notEqual(kept.descriptor.digest, keptB.descriptor.digest, "kept modes differ, so the layers must");
    const normal = { ...options, modes: "normalise" as const };
    const na = await buildLayer({ source: a, destination: "/app" }, normal, path.join(work, "u2.tgz"));
    const nb = await buildLayer({ source: b, destination: "/app" }, normal, path.join(work, "u3.tgz"));
    assert.equal(na.descriptor.digest, nb.descriptor.digest);
    const entries = await readLayer(na.file);
    const mode = (name: string): number => entries.find((entry) => entry.name === name)!.mode;
    assert.equal(mode("app/bin/server"), 0o755);
    assert.equal(mode("app/conf/server.properties"), 0o644);
    assert.equal(mode("app/conf/"), 0o755);
  });

  test("diffID and digest are the sha256 of the tar and of the gzip, and system gzip accepts the stream", async () => {
    const a = await makeTree(path.join(work, "hash"), { umask: 0o022, mtime: 1_700_000_000 });
    const big = path.join(a, "data.bin");
    // Several compression blocks, part compressible text, part random: both block kinds and a partial tail.
    const random = createHash("sha512");
    const parts: Buffer[] = [];
    for (let i = 0; i < 40_000; i++) parts.push(random.update(String(i)).copy().digest());
    parts.push(Buffer.from("compressible text\n".repeat(150_000)));
    await writeFile(big, Buffer.concat(parts));
    const layer = await buildLayer({ source: a, destination: "/" }, options, path.join(work, "hash.tgz"));
    const gz = await readFile(layer.file);
    assert.equal(layer.descriptor.size, gz.length);
    assert.equal(layer.descriptor.digest, `sha256:${createHash("sha256").update(gz).digest("hex")}`);
    const plain = gunzipSync(gz);
    assert.equal(layer.uncompressedSize, plain.length);
    assert.equal(layer.diffId, `sha256:${createHash("sha256").update(plain).digest("hex")}`);
    assert.ok(gz.length < plain.length, "the text part compresses");
    await run("gzip", ["-t", layer.file]);
    const { stdout } = await run("tar", ["-tzvf", layer.file]);
    assert.match(stdout, /data\.bin/);
  });
});

describe("what a layer keeps", () => {
  test("entries are sorted bytewise, with modes, symlinks, hard links and content kept", async () => {
    const a = await makeTree(path.join(work, "keep"), { umask: 0o022, mtime: 1_700_000_000 });
    await chmod(path.join(a, "bin", "server"), 0o4755);
    const layer = await buildLayer({ source: a, destination: "/opt/kafka" }, options, path.join(work, "keep.tgz"));
    const entries = await readLayer(layer.file);
    assert.deepEqual(
      entries.map((entry) => entry.name),
      [
        "opt/kafka/",
        "opt/kafka/Zeta",
        "opt/kafka/bin/",
        "opt/kafka/bin/server",
        "opt/kafka/bin/server-hardlink",
        "opt/kafka/bin/start",
        "opt/kafka/conf/",
        "opt/kafka/conf/absolute-link",
        "opt/kafka/conf/empty/",
        "opt/kafka/conf/secret",
        "opt/kafka/conf/server.properties",
      ],
    );
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    assert.equal(byName.get("opt/kafka/bin/server")!.mode, 0o4755);
    assert.equal(byName.get("opt/kafka/bin/server")!.content, "#!/bin/sh\necho server\n");
    assert.equal(byName.get("opt/kafka/conf/secret")!.mode, 0o600);
    assert.equal(byName.get("opt/kafka/conf/server.properties")!.mode, 0o644);
    assert.equal(byName.get("opt/kafka/bin/start")!.type, "symlink");
    assert.equal(byName.get("opt/kafka/bin/start")!.linkname, "server");
    assert.equal(byName.get("opt/kafka/conf/absolute-link")!.linkname, "/etc/passwd");
    assert.equal(byName.get("opt/kafka/bin/server-hardlink")!.type, "link");
    assert.equal(byName.get("opt/kafka/bin/server-hardlink")!.linkname, "opt/kafka/bin/server");
    for (const entry of entries) {
      assert.equal(entry.uid, 0, entry.name);
      assert.equal(entry.gid, 0, entry.name);
      assert.equal(entry.uname, "", entry.name);
      assert.equal(entry.mtime, 0, entry.name);
    }
  });

  test("owners: a chosen uid/gid for every entry, or the host's ids kept", async () => {
    const a = await makeTree(path.join(work, "owners"), { umask: 0o022, mtime: 1_700_000_000 });
    await chown(path.join(a, "conf", "secret"), 1234, 5678);
    const chosen = await readLayer((await buildLayer({ source: a, destination: "/app" }, { ...options, owner: { uid: 1000, gid: 1001 } }, path.join(work, "o1.tgz"))).file);
    assert.ok(chosen.every((entry) => entry.uid === 1000 && entry.gid === 1001));
    const kept = await readLayer((await buildLayer({ source: a, destination: "/app" }, { ...options, owner: "keep" }, path.join(work, "o2.tgz"))).file);
    const secret = kept.find((entry) => entry.name === "app/conf/secret")!;
    assert.deepEqual([secret.uid, secret.gid], [1234, 5678]);
    const server = kept.find((entry) => entry.name === "app/bin/server")!;
    assert.deepEqual([server.uid, server.gid], [process.getuid!(), process.getgid!()]);
  });

  test("mtimes are clamped to SOURCE_DATE_EPOCH: older files keep theirs, newer ones get it", async () => {
    const root = path.join(work, "clamp");
    await mkdir(root);
    await writeFile(path.join(root, "old"), "old\n");
    await writeFile(path.join(root, "new"), "new\n");
    await utimes(path.join(root, "old"), 1_000_000_000, 1_000_000_000);
    await utimes(path.join(root, "new"), 1_900_000_000, 1_900_000_000);
    const entries = await readLayer((await buildLayer({ source: root, destination: "/c" }, { sourceDateEpoch: 1_500_000_000 }, path.join(work, "clamp.tgz"))).file);
    const mtime = (name: string): number => entries.find((entry) => entry.name === name)!.mtime;
    assert.equal(mtime("c/old"), 1_000_000_000);
    assert.equal(mtime("c/new"), 1_500_000_000);
  });

  test("a single file lands at its destination, or inside a destination ending in /", async () => {
    const file = path.join(work, "single-binary");
    await writeFile(file, "ELF pretend\n");
    await chmod(file, 0o755);
    const exact = await readLayer((await buildLayer({ source: file, destination: "/usr/local/bin/broker" }, options, path.join(work, "s1.tgz"))).file);
    assert.deepEqual(exact.map((entry) => [entry.name, entry.mode]), [["usr/local/bin/broker", 0o755]]);
    const into = await readLayer((await buildLayer({ source: file, destination: "/usr/local/bin/" }, options, path.join(work, "s2.tgz"))).file);
    assert.deepEqual(into.map((entry) => entry.name), ["usr/local/bin/single-binary"]);
  });
});

describe("bad layer input", () => {
  test("a relative destination or one with .. is invalid input naming the place", async () => {
    const dir = await makeTree(path.join(work, "bad-dest"), { umask: 0o022, mtime: 1_700_000_000 });
    await assert.rejects(buildLayer({ source: dir, destination: "opt/app" }, options, path.join(work, "x.tgz")), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "invalid-input");
      assert.equal(error.place, "character 1");
      return true;
    });
    await assert.rejects(buildLayer({ source: dir, destination: "/opt/../etc" }, options, path.join(work, "x.tgz")), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "invalid-input");
      assert.equal(error.place, "path segment 2");
      return true;
    });
  });

  test("a missing source is not-found; a FIFO inside is invalid input naming the file", async () => {
    await assert.rejects(buildLayer({ source: path.join(work, "nothing-here"), destination: "/x" }, options, path.join(work, "x.tgz")), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "not-found");
      assert.match(error.input ?? "", /nothing-here/);
      return true;
    });
    const dir = path.join(work, "with-fifo");
    await mkdir(dir);
    await run("mkfifo", [path.join(dir, "pipe")]);
    await assert.rejects(buildLayer({ source: dir, destination: "/x" }, options, path.join(work, "x.tgz")), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "invalid-input");
      assert.match(error.input ?? "", /with-fifo\/pipe/);
      return true;
    });
  });
});

describe("SOURCE_DATE_EPOCH", () => {
  test("flag beats environment, default is 0, commit reads git, garbage is refused with its place", async () => {
    assert.equal(await resolveSourceDateEpoch(undefined, { env: {} }), 0);
    assert.equal(await resolveSourceDateEpoch(undefined, { env: { SOURCE_DATE_EPOCH: "1700000000" } }), 1_700_000_000);
    assert.equal(await resolveSourceDateEpoch("42", { env: { SOURCE_DATE_EPOCH: "1700000000" } }), 42);
    const repo = path.join(work, "repo");
    await mkdir(repo);
    const git = (args: string[]): Promise<unknown> => run("git", args, { cwd: repo, env: { ...process.env, GIT_COMMITTER_DATE: "@1712345678 +0000", GIT_AUTHOR_DATE: "@1712345678 +0000" } });
    await git(["init", "-q"]);
    await writeFile(path.join(repo, "f"), "x");
    await git(["add", "f"]);
    await git(["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "x"]);
    assert.equal(await resolveSourceDateEpoch("commit", { cwd: repo }), 1_712_345_678);
    await assert.rejects(resolveSourceDateEpoch("17x", { env: {} }), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "invalid-input");
      assert.equal(error.place, "character 3");
      return true;
    });
  });
});
