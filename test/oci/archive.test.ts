// docker-archive: archives imagewright writes load into the real Docker Engine,
// and archives the engine saves read back, with what is and is not preserved.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import tar from "tar-stream";
import { ImagewrightError } from "../../src/errors/index.ts";
import { copy, DockerArchive, OciLayout, parseManifest } from "../../src/oci/index.ts";
import type { GeneratedImage, GeneratedIndex } from "./images.ts";
import { readAll, writeImage, writeIndex } from "./images.ts";

function docker(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("docker", args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.join(" ")} failed: ${stderr || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

async function tarFile(path: string, files: Record<string, string>): Promise<void> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  await writeFile(path, Buffer.concat(chunks));
}

function refused(kind: string, place: string | undefined, message: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ImagewrightError, String(e));
    assert.equal(e.kind, kind);
    if (place !== undefined) assert.equal(e.place, place);
    assert.match(e.message, message);
    return true;
  };
}

describe("docker archives with the real Docker Engine", () => {
  let dir: string;
  let layout: OciLayout;
  let image: GeneratedImage;
  let index: GeneratedIndex;
  const name = `imagewright-test/archive-${randomBytes(4).toString("hex")}`;
  const loaded: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-archive-"));
    layout = await OciLayout.open(join(dir, "layout"), { create: true });
    image = await writeImage(layout, { tag: "single", layerSizes: [200_000, 3000, 50] });
    index = await writeIndex(layout, { tag: "multi", attestations: true });
  });
  after(async () => {
    for (const ref of loaded) await docker(["image", "rm", "--force", ref]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("writes an archive that docker load accepts, with the same image ID and layers", async () => {
    const file = join(dir, "single.tar");
    const result = await copy(layout, "single", await DockerArchive.create(file), `${name}:1`);
    assert.equal(result.descriptor.digest, image.descriptor.digest);
    loaded.push(`${name}:1`);
    assert.match(await docker(["load", "-i", file]), new RegExp(`Loaded image: ${name}:1`));
    const [inspected] = JSON.parse(await docker(["image", "inspect", `${name}:1`])) as { Id: string; RootFS: { Layers: string[] }; Architecture: string; Config: { Entrypoint: string[] } }[];
    assert.equal(inspected!.Id, image.config.digest);
    assert.deepEqual(inspected!.RootFS.Layers, image.diffIds);
    assert.equal(inspected!.Architecture, "amd64");
    assert.deepEqual(inspected!.Config.Entrypoint, ["/opt/kafka/bin/kafka-server-start.sh"]);
    // No staging directory is left beside the archive.
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes("imagewright-")), []);
  });

  it("reads its own archive back with the manifest digest kept (it is also an OCI layout)", async () => {
    const archive = await DockerArchive.read(join(dir, "single.tar"));
    assert.deepEqual(await archive.listTags(), [`docker.io/${name}:1`]);
    assert.equal((await archive.resolve(`${name}:1`)).digest, image.descriptor.digest);
    assert.equal((await archive.resolve("")).digest, image.descriptor.digest);
    const back = await OciLayout.open(join(dir, "back"), { create: true });
    const result = await copy(archive, `${name}:1`, back, "again");
    assert.equal(result.descriptor.digest, image.descriptor.digest);
  });

  it("reads what docker save writes (legacy layout): config digest kept, layers uncompressed", async () => {
    const file = join(dir, "saved.tar");
    await docker(["save", "-o", file, `${name}:1`]);
    const archive = await DockerArchive.read(file);
    const stored = await archive.getManifest(`${name}:1`);
    const parsed = parseManifest(stored.bytes, "saved");
    assert.equal(parsed.kind, "image");
    if (parsed.kind !== "image") return;
    assert.equal(parsed.manifest.config.digest, image.config.digest);
    assert.deepEqual(parsed.manifest.layers.map((l) => l.digest), image.diffIds);
    // The engine kept no manifest, so the manifest is made from config and layers: a new digest, but a stable one.
    assert.notEqual(stored.descriptor.digest, image.descriptor.digest);
    assert.equal((await (await DockerArchive.read(file)).resolve("")).digest, stored.descriptor.digest);
    const out = await OciLayout.open(join(dir, "from-save"), { create: true });
    const result = await copy(archive, "", out, "saved");
    assert.equal(result.descriptor.digest, stored.descriptor.digest);
    assert.equal(result.blobs.length, 1 + image.layers.length);
  });

  it("takes one platform of an index, and refuses an index without --platform before writing anything", async () => {
    const file = join(dir, "multi.tar");
    await assert.rejects(copy(layout, "multi", await DockerArchive.create(file), `${name}:multi`), refused("usage", undefined, /single-platform images .* 2 platforms/));
    await assert.rejects(access(file));
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes("imagewright-")), []);
    const arm = index.images.find((i) => i.platform.architecture === "arm64")!;
    const result = await copy(layout, "multi", await DockerArchive.create(file), `${name}:arm`, { platforms: [{ os: "linux", architecture: "arm64" }] });
    assert.equal(result.descriptor.digest, arm.descriptor.digest);
    assert.match(result.notes.join("\n"), /linux\/arm64\/v8 image alone/);
    loaded.push(`${name}:arm`);
    await docker(["load", "-i", file]);
    const [inspected] = JSON.parse(await docker(["image", "inspect", `${name}:arm`])) as { Id: string; Architecture: string }[];
    assert.equal(inspected!.Id, arm.config.digest);
    assert.equal(inspected!.Architecture, "arm64");
  });

  it("answers a damaged archive with an ImagewrightError or content that still verifies, never a crash (fuzz)", async () => {
    const original = await readFile(join(dir, "single.tar"));
    const damaged = join(dir, "damaged.tar");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(original.length), async (flips, cut) => {
        const bytes = Buffer.from(original.subarray(0, Math.max(cut, original.length - 2048)));
        for (const [at, mask] of flips) if (at < bytes.length) bytes[at] = bytes[at]! ^ mask;
        await writeFile(damaged, bytes);
        try {
          const archive = await DockerArchive.read(damaged);
          const stored = await archive.getManifest("");
          const parsed = parseManifest(stored.bytes, "damaged");
          if (parsed.kind === "image") for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) await readAll(await archive.getBlob(blob));
        } catch (error) {
          assert.ok(error instanceof ImagewrightError, `flips ${JSON.stringify(flips)} cut ${cut}: ${String(error)}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("says what is wrong with a broken archive, and where", async () => {
    const bad = join(dir, "bad.tar");
    await tarFile(bad, { "manifest.json": '[{"Config":"c.json","Layers":"x"}]', "c.json": "{}" });
    await assert.rejects(DockerArchive.read(bad), refused("invalid-input", "$[0].Layers", /list of file names/));
    await tarFile(bad, { "manifest.json": '[{"Config":"c.json","RepoTags":["a:1"],"Layers":["l.tar"]}]', "c.json": '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' });
    await assert.rejects(DockerArchive.read(bad), refused("invalid-input", "$[0].Layers", /1 layers but its config has 0/));
    await tarFile(bad, { "c.json": "{}" });
    await assert.rejects(DockerArchive.read(bad), refused("invalid-input", undefined, /no manifest.json/));
    await writeFile(bad, gzipSync(Buffer.alloc(2048)));
    await assert.rejects(DockerArchive.read(bad), refused("invalid-input", "byte 0", /gzip-compressed/));
    await writeFile(bad, Buffer.alloc(1024, 7));
    await assert.rejects(DockerArchive.read(bad), refused("invalid-input", "byte 0", /not a tar archive/));
    await assert.rejects(DockerArchive.read(join(dir, "missing.tar")), refused("not-found", undefined, /no docker archive/));
  });
});
