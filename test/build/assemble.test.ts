// The assembler against a real Distribution registry (behind a counting proxy)
// and a real OCI layout: reproducible digests, base layers never downloaded,
// multi-platform indexes, and the `assemble` command's answers and errors.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { assemble, type AssembleRequest } from "../../src/build/assemble.ts";
import { ImagewrightError } from "../../src/errors/index.ts";
import { OciLayout } from "../../src/oci/index.ts";
import type { Descriptor, ImageIndex, ImageManifest, ImageStore } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from "../support/registry.ts";

const PORTS: [number, number] = [15400, 15449];

let work: string;
let registry: TestRegistry;
let proxy: RegistryProxy;
let client: RegistryClient;

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-assemble-test-"));
  registry = await startRegistry({ ports: PORTS });
  proxy = await startRegistryProxy(registry, PORTS);
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await proxy?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** An application tree; `mtime` differs between "checkouts", the content does not. */
async function appTree(name: string, mtime: number, greeting = "hello"): Promise<string> {
  const root = path.join(work, name);
  await mkdir(path.join(root, "bin"), { recursive: true });
  await writeFile(path.join(root, "bin", "run"), `#!/bin/sh\necho ${greeting}\n`);
  await writeFile(path.join(root, "app.conf"), "mode=test\n");
  await symlink("bin/run", path.join(root, "start"));
  await chmod(root, 0o755);
  await chmod(path.join(root, "bin"), 0o755);
  await chmod(path.join(root, "bin", "run"), 0o755);
  await chmod(path.join(root, "app.conf"), 0o644);
  for (const file of [".", "bin", "bin/run", "app.conf"]) await utimes(path.join(root, file), mtime, mtime);
  return root;
}

async function manifestOf(store: ImageStore, reference: string): Promise<ImageManifest & ImageIndex> {
  const stored = await store.getManifest(reference);
  return JSON.parse(Buffer.from(stored.bytes).toString("utf8")) as ImageManifest & ImageIndex;
}

async function blobJson(store: ImageStore, descriptor: Descriptor): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(descriptor)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** A base image with one 4 MB layer of random bytes, pushed straight to the registry (not through the proxy). */
async function pushBase(repository: string): Promise<{ store: ImageStore; layerDigest: string; layerSize: number }> {
  const dir = path.join(work, `base-${repository.replaceAll("/", "-")}`);
  await mkdir(path.join(dir, "usr", "lib"), { recursive: true });
  await writeFile(path.join(dir, "usr", "lib", "payload.bin"), randomBytes(4 * 1024 * 1024));
  const store = client.repository(registry.host, repository);
  const result = await assemble({ bases: [{ base: "scratch" }], layers: [{ source: dir, destination: "/" }], sourceDateEpoch: 0, target: store, tag: "1" });
  const layer = result.layers[0]!;
  return { store, layerDigest: layer.digest, layerSize: layer.size };
}

describe("assembling onto a base in a real registry", () => {
  test("base layers are mounted into a new repository, skipped when present, and never downloaded", async () => {
    const base = await pushBase("base/os");
    const app = await appTree("app-mount", 1_700_000_000);
    const request = (repository: string): AssembleRequest => ({
      bases: [{ base: { store: client.repository(proxy.host, "base/os"), reference: "1", name: `${proxy.host}/base/os:1` } }],
      layers: [{ source: app, destination: "/opt/app" }],
      config: { entrypoint: ["/opt/app/bin/run"], user: "1000:1000" },
      sourceDateEpoch: 0,
      target: client.repository(proxy.host, repository),
      tag: "1.0.0",
    });
    proxy.records.length = 0;
    const first = await assemble(request("apps/one"));
    const baseBlobReads = proxy.records.filter((r) => r.method === "GET" && r.path.includes(`/blobs/${base.layerDigest}`));
    assert.deepEqual(baseBlobReads, [], "the base layer's bytes were read");
    assert.ok(proxy.records.some((r) => r.method === "POST" && r.path.includes(`mount=${encodeURIComponent(base.layerDigest)}`) && r.status === 201));
    assert.equal(first.traffic.mounted, 1);
    assert.equal(first.traffic.baseBytesRead, 0);
    assert.ok(proxy.uploadedBytes() < base.layerSize / 4, `uploaded ${proxy.uploadedBytes()} bytes for a ${base.layerSize}-byte base`);

    proxy.records.length = 0;
    const again = await assemble(request("apps/one"));
    assert.equal(again.descriptor.digest, first.descriptor.digest);
    assert.equal(again.traffic.uploaded, 0);
    assert.equal(again.traffic.mounted, 0);
    assert.equal(again.traffic.present, 3, "base layer, new layer and config were all there");
    assert.equal(proxy.records.filter((r) => r.method === "GET" && r.path.includes(`/blobs/${base.layerDigest}`)).length, 0);

    const manifest = await manifestOf(client.repository(registry.host, "apps/one"), "1.0.0");
    assert.equal(manifest.layers.length, 2);
    assert.equal(manifest.layers[0]!.digest, base.layerDigest);
    assert.equal(manifest.annotations?.["org.opencontainers.image.base.name"], `${proxy.host}/base/os:1`);
  });

  test("two checkouts with different mtimes give the same digest in a registry and in an OCI layout; a change does not", async () => {
    // Checkouts are younger than the commit they check out: every mtime is clamped to the epoch.
    const a = await appTree("checkout-a", 1_710_000_000);
    const b = await appTree("checkout-b", 1_750_000_000);
    const changed = await appTree("checkout-c", 1_710_000_000, "bonjour");
    const layout = await OciLayout.open(path.join(work, "layout"), { create: true });
    const build = (source: string, target: ImageStore, tag: string): Promise<{ descriptor: { digest: string } }> =>
      assemble({
        bases: [{ base: "scratch" }],
        layers: [{ source, destination: "/app" }],
        config: { entrypoint: ["/app/bin/run"], env: ["MODE=test"], exposedPorts: ["8080"], labels: { "org.opencontainers.image.title": "app" } },
        sourceDateEpoch: 1_700_000_000,
        target,
        tag,
      });
    const fromA = await build(a, client.repository(registry.host, "repro/app"), "a");
    const fromB = await build(b, client.repository(registry.host, "repro/app"), "b");
    const intoLayout = await build(b, layout, "b");
    const fromChanged = await build(changed, client.repository(registry.host, "repro/app"), "c");
    assert.equal(fromB.descriptor.digest, fromA.descriptor.digest);
    assert.equal(intoLayout.descriptor.digest, fromA.descriptor.digest);
    assert.notEqual(fromChanged.descriptor.digest, fromA.descriptor.digest);
    const config = (await blobJson(layout, (await manifestOf(layout, "b")).config)) as { created: string; config: { Entrypoint: string[]; Env: string[]; ExposedPorts: Record<string, object> }; history: { created_by: string }[] };
    assert.equal(config.created, "2023-11-14T22:13:20Z");
    assert.deepEqual(config.config.Entrypoint, ["/app/bin/run"]);
    assert.deepEqual(config.config.ExposedPorts, { "8080/tcp": {} });
    assert.ok(config.history.every((entry) => !entry.created_by.includes(work)), "history must not name host paths");
  });

  test("per-platform layers give an index with one manifest per platform", async () => {
    const amd = path.join(work, "amd64");
    const arm = path.join(work, "arm64");
    await mkdir(amd);
    await mkdir(arm);
    await writeFile(path.join(amd, "app"), "amd64 build\n");
    await writeFile(path.join(arm, "app"), "arm64 build\n");
    const common = await appTree("multi-common", 1_700_000_000);
    const target = client.repository(registry.host, "multi/app");
    const result = await assemble({
      bases: [{ base: "scratch" }],
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64", variant: "v8" }],
      layers: [
        { source: common, destination: "/etc/app" },
        { source: path.join(amd, "app"), destination: "/usr/bin/app", platform: { os: "linux", architecture: "amd64" } },
        { source: path.join(arm, "app"), destination: "/usr/bin/app", platform: { os: "linux", architecture: "arm64" } },
      ],
      sourceDateEpoch: 0,
      target,
      tag: "multi",
    });
    const index = await manifestOf(target, "multi");
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(result.descriptor.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(index.manifests.map((entry) => entry.platform), [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ]);
    const amdManifest = await manifestOf(target, index.manifests[0]!.digest);
    const armManifest = await manifestOf(target, index.manifests[1]!.digest);
    assert.equal(amdManifest.layers[0]!.digest, armManifest.layers[0]!.digest, "the shared layer is one blob");
    assert.notEqual(amdManifest.layers[1]!.digest, armManifest.layers[1]!.digest);
    const armConfig = (await blobJson(target, armManifest.config)) as { architecture: string; variant: string };
    assert.deepEqual([armConfig.architecture, armConfig.variant], ["arm64", "v8"]);

    // The index is itself a base: one platform of it, plus a layer, is a single manifest.
    const derived = await assemble({
      bases: [{ base: { store: target, reference: "multi", name: `${registry.host}/multi/app:multi` }, platform: { os: "linux", architecture: "arm64" } }],
      layers: [{ source: common, destination: "/srv" }],
      sourceDateEpoch: 0,
      target,
      tag: "arm-only",
    });
    const manifest = await manifestOf(target, "arm-only");
    assert.equal(derived.platforms[0]!.platform, "linux/arm64/v8");
    assert.equal(manifest.layers.length, 3);
  });
});

describe("assembly failures", () => {
  test("a layer failing after another one started uploading rejects cleanly and leaves no spool behind", async () => {
    const app = await appTree("fail-first", 1_700_000_000);
    const spoolDirectory = path.join(work, "spools");
    await mkdir(spoolDirectory);
    await assert.rejects(
      assemble({
        bases: [{ base: "scratch" }],
        layers: [
          { source: app, destination: "/first" },
          { source: path.join(work, "does-not-exist"), destination: "/second" },
        ],
        sourceDateEpoch: 0,
        target: client.repository(registry.host, "fail/app"),
        tag: "1",
        spoolDirectory,
      }),
      (error: unknown) => error instanceof ImagewrightError && error.kind === "not-found" && /does-not-exist/.test(error.message),
    );
    assert.deepEqual(await readdir(spoolDirectory), []);
    await assert.rejects(client.repository(registry.host, "fail/app").resolve("1"), (error: unknown) => error instanceof ImagewrightError && error.kind === "not-found");
  });
});

describe("imagewright assemble", () => {
  test("answers JSON with digest, platforms, layers and traffic; human output names the result", async () => {
    const app = await appTree("cli-app", 1_700_000_000);
    const reference = `${registry.host}/cli/app:1`;
    const args = ["assemble", "--base", "scratch", "--layer", `${app}:/opt/app`, "--entrypoint", '["/opt/app/bin/run","--flag"]', "--env", "A=1", "--user", "1000:1000", "--expose", "9092", "--output", reference];
    const json = await runCli(["--json", ...args], { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    assert.equal(json.code, 0, json.stderr);
    const result = parseJson<{ descriptor: { digest: string }; platforms: { platform: string }[]; layers: { destination: string; entries: number }[] }>(json);
    assert.match(result.descriptor.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(result.platforms[0]!.platform, "linux/amd64");
    assert.equal(result.layers[0]!.destination, "/opt/app");
    assert.equal(result.layers[0]!.entries, 5);
    const human = await runCli(args, { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.startsWith(`${registry.host}/cli/app:1@${result.descriptor.digest}`), human.stdout);
    assert.match(human.stdout, /PLATFORM\s+MANIFEST/);
    assert.match(human.stderr, /layer \/opt\/app/);
  });

  test("bad input exits non-zero and names the input and place", async () => {
    const app = await appTree("cli-bad", 1_700_000_000);
    const output = `oci:${path.join(work, "cli-bad-layout")}:x`;
    const badEntrypoint = await runCli(["--json", "assemble", "--base", "scratch", "--layer", app, "--entrypoint", '["/x",', "--output", output]);
    assert.equal(badEntrypoint.code, 3);
    const error = parseJson<{ error: { kind: string; input: string; place?: string } }>(badEntrypoint).error;
    assert.equal(error.kind, "invalid-input");
    assert.match(error.input, /--entrypoint/);
    assert.ok(error.place !== undefined);

    const badPort = await runCli(["--json", "assemble", "--base", "scratch", "--layer", app, "--expose", "99999", "--output", output]);
    assert.equal(badPort.code, 3);
    assert.equal(parseJson<{ error: { place: string } }>(badPort).error.place, "entry 1");

    const missingBase = await runCli(["--json", "assemble", "--base", `${registry.host}/no/such:1`, "--layer", app, "--output", output]);
    assert.equal(missingBase.code, 4, missingBase.stdout);

    const badEpoch = await runCli(["assemble", "--base", "scratch", "--layer", app, "--output", output], { env: { SOURCE_DATE_EPOCH: "yesterday" } });
    assert.equal(badEpoch.code, 3);
    assert.match(badEpoch.stderr, /SOURCE_DATE_EPOCH=yesterday/);

    const missingLayer = await runCli(["assemble", "--base", "scratch", "--layer", path.join(work, "nope"), "--output", output]);
    assert.equal(missingLayer.code, 4);
    assert.match(missingLayer.stderr, /nope/);
  });
});
