// Real BuildKit: `imagewright build` runs `buildx bake` on the stack's buildkitd
// builder and pushes to a test registry — a catalog of our own whose upstream base
// the daemonless assembler makes, and a git tag of the example catalog.

import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { assemble } from "../../src/build/assemble.ts";
import { OciLayout } from "../../src/oci/index.ts";
import type { ImageIndex, ImageManifest, ImageStore } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

const PORTS: [number, number] = [15490, 15499];
const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));
/** The buildkitd-backed buildx builder stack/up.sh creates (docs/stack.md). */
const BUILDER = process.env.IMAGEWRIGHT_BUILDER ?? "imagewright";

interface Summary {
  targets: { id: string; status: string; reason: string; tags: string[]; digest?: string; size?: number; buildSeconds?: number }[];
  bakeFile: { group: { default: { targets: string[] } } };
}

let work: string;
let registry: TestRegistry;
let client: RegistryClient;

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-bake-run-"));
  registry = await startRegistry({ ports: PORTS });
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

async function manifestOf(store: ImageStore, reference: string): Promise<ImageManifest & ImageIndex> {
  const stored = await store.getManifest(reference);
  return JSON.parse(Buffer.from(stored.bytes).toString("utf8")) as ImageManifest & ImageIndex;
}

/** The image manifest for linux/amd64, through an index (buildx adds provenance) or directly. */
async function amd64Manifest(store: ImageStore, reference: string): Promise<ImageManifest> {
  const top = await manifestOf(store, reference);
  if (top.manifests === undefined) return top;
  const entry = top.manifests.find((m) => m.platform?.architecture === "amd64" && m.platform.os === "linux");
  assert.ok(entry !== undefined, `no linux/amd64 image in ${reference}`);
  return manifestOf(store, entry.digest);
}

function build(args: string[]): ReturnType<typeof runCli> {
  return runCli(["--json", "build", ...args, "--builder", BUILDER, "--source-date-epoch", "1700000000"], { timeoutMs: 900_000 });
}

describe("imagewright build with BuildKit", () => {
  test("a git tag builds exactly its image and the missing local images, as target: contexts, pushed", async () => {
    // The upstream image comes from the daemonless assembler: nothing is pulled from outside.
    const upstreamFiles = path.join(work, "upstream");
    await mkdir(path.join(upstreamFiles, "etc"), { recursive: true });
    await writeFile(path.join(upstreamFiles, "etc", "os-release"), 'NAME="acme os"\n');
    await assemble({ bases: [{ base: "scratch" }], layers: [{ source: upstreamFiles, destination: "/" }], sourceDateEpoch: 0, target: client.repository(registry.host, "upstream/os"), tag: "1" });

    const root = path.join(work, "catalog");
    const files: Record<string, string> = {
      "imagewright.yaml": `registry: ${registry.host}\nnamespace: acme\nvendor: acme\ntagScheme: stackable\nplatforms: [linux/amd64]\nevaluation:\n  namespace: evaluation\nimages: images\n`,
      "images/os/image.yaml": `kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n    buildArgs:\n      UPSTREAM_IMAGE: ${registry.host}/upstream/os:1\n`,
      "images/os/Dockerfile": "ARG UPSTREAM_IMAGE\nFROM ${UPSTREAM_IMAGE}\nCOPY os.txt /os.txt\n",
      "images/os/os.txt": "os layer\n",
      "images/runtime/image.yaml": 'kind: base\nversions:\n  - productVersion: "8"\n    imageVersion: 0.2.0\n    dependencies:\n      os: "1"\n',
      "images/runtime/Dockerfile": "ARG OS_IMAGE\nFROM ${OS_IMAGE}\nARG PRODUCT_VERSION\nCOPY runtime.txt /runtime-${PRODUCT_VERSION}.txt\n",
      "images/runtime/runtime.txt": "runtime layer\n",
      "images/server/image.yaml": 'kind: product\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.3.0\n    dependencies:\n      runtime: "8"\n',
      "images/server/Dockerfile": "ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\nARG PRODUCT_VERSION\nARG RUNTIME_VERSION\nCOPY server.txt /server.txt\nLABEL built.with.runtime=${RUNTIME_VERSION}\n",
      "images/server/server.txt": "server layer\n",
    };
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }

    const first = await build(["--catalog", root, "--git-tag", "server2.0.0_acme0.3.0", "--push", "--licenses", "Apache-2.0"]);
    assert.equal(first.code, 0, first.stderr.split("\n").slice(-30).join("\n"));
    const summary = parseJson<Summary>(first);
    assert.deepEqual(summary.targets.map((t) => [t.id, t.status, t.reason]), [
      ["os-1", "built", "dependency"],
      ["runtime-8", "built", "dependency"],
      ["server-2.0.0", "built", "requested"],
    ]);
    const server = client.repository(registry.host, "acme/server");
    for (const target of summary.targets) {
      const repository = client.repository(registry.host, `acme/${target.id.split("-")[0]}`);
      assert.equal((await repository.resolve(target.tags[0]!)).digest, target.digest, `${target.id}: reported digest is what the tag points at`);
      assert.ok((target.size ?? 0) > 0);
      assert.ok((target.buildSeconds ?? 0) > 0, `${target.id}: BuildKit steps were timed`);
    }
    // The server was built FROM the runtime of this same bake: its layers start with the runtime's.
    const runtimeImage = await amd64Manifest(client.repository(registry.host, "acme/runtime"), "8_acme0.2.0");
    const serverImage = await amd64Manifest(server, "2.0.0_acme0.3.0");
    assert.deepEqual(serverImage.layers.slice(0, runtimeImage.layers.length).map((l) => l.digest), runtimeImage.layers.map((l) => l.digest));
    assert.equal(serverImage.layers.length, runtimeImage.layers.length + 1);
    assert.equal(serverImage.annotations?.["org.opencontainers.image.version"], "2.0.0_acme0.3.0");
    assert.equal(serverImage.annotations?.["org.opencontainers.image.licenses"], "Apache-2.0");
    assert.equal(serverImage.annotations?.["org.opencontainers.image.created"], "2023-11-14T22:13:20Z");
    const chunks: Buffer[] = [];
    for await (const chunk of await server.getBlob(serverImage.config)) chunks.push(chunk as Buffer);
    const config = JSON.parse(Buffer.concat(chunks).toString()) as { config: { Labels: Record<string, string> } };
    assert.equal(config.config.Labels["built.with.runtime"], "8", "RUNTIME_VERSION reached the Dockerfile");
    assert.equal(config.config.Labels["org.opencontainers.image.vendor"], "acme");
    assert.equal(config.config.Labels["org.opencontainers.image.title"], "server");

    // Again: the registry has the runtime at its tag, so neither it nor the os is rebuilt.
    const second = await build(["--catalog", root, "--git-tag", "server2.0.0_acme0.3.0", "--push"]);
    assert.equal(second.code, 0, second.stderr.split("\n").slice(-30).join("\n"));
    const again = parseJson<Summary>(second);
    assert.deepEqual(again.targets.map((t) => [t.id, t.status]), [
      ["os-1", "not-needed"],
      ["runtime-8", "present"],
      ["server-2.0.0", "built"],
    ]);
    assert.deepEqual(again.bakeFile.group.default.targets, ["server-2_0_0"]);

    // Into an OCI layout instead of a registry: every tag lands there.
    const layoutDir = path.join(work, "layout");
    const toLayout = await build(["--catalog", root, "--select", "runtime", "--output", `oci:${layoutDir}`, "--rebuild-dependencies"]);
    assert.equal(toLayout.code, 0, toLayout.stderr.split("\n").slice(-30).join("\n"));
    const layoutSummary = parseJson<Summary>(toLayout);
    const layout = await OciLayout.open(layoutDir);
    for (const target of layoutSummary.targets) {
      assert.equal((await layout.resolve(target.tags[0]!)).digest, target.digest);
    }
    assert.deepEqual(layoutSummary.targets.map((t) => t.id), ["os-1", "runtime-8"]);
  });

  test("--platform with two platforms ends in one index per image, each platform FROM its own base", async () => {
    // A two-platform upstream made by the assembler (COPY-only Dockerfiles need no emulation).
    const files = path.join(work, "multi-upstream");
    await mkdir(path.join(files, "etc"), { recursive: true });
    await writeFile(path.join(files, "etc", "os-release"), 'NAME="acme os"\n');
    await assemble({
      bases: [{ base: "scratch" }],
      platforms: [{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }],
      layers: [{ source: files, destination: "/" }],
      sourceDateEpoch: 0,
      target: client.repository(registry.host, "upstream/multi"),
      tag: "1",
    });
    const root = path.join(work, "multi-catalog");
    const catalogFiles: Record<string, string> = {
      "imagewright.yaml": `registry: ${registry.host}\nnamespace: multi\nvendor: acme\ntagScheme: stackable\nplatforms: [linux/amd64]\nevaluation:\n  namespace: evaluation\nimages: images\n`,
      "images/os/image.yaml": `kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n    buildArgs:\n      UPSTREAM_IMAGE: ${registry.host}/upstream/multi:1\n`,
      "images/os/Dockerfile": "ARG UPSTREAM_IMAGE\nFROM ${UPSTREAM_IMAGE}\nARG TARGETARCH\nCOPY os.txt /os-${TARGETARCH}.txt\n",
      "images/os/os.txt": "os layer\n",
    };
    for (const [name, content] of Object.entries(catalogFiles)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }
    const result = await build(["--catalog", root, "--select", "os", "--push", "--platform", "linux/amd64,linux/arm64"]);
    assert.equal(result.code, 0, result.stderr.split("\n").slice(-30).join("\n"));
    const summary = parseJson<Summary>(result);
    const store = client.repository(registry.host, "multi/os");
    const index = await manifestOf(store, "1_acme0.1.0");
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal((await store.resolve("1_acme0.1.0")).digest, summary.targets[0]!.digest);
    const platforms = index.manifests.filter((m) => m.platform?.os === "linux").map((m) => m.platform!.architecture).sort();
    assert.deepEqual(platforms, ["amd64", "arm64"]);
    assert.equal(index.annotations?.["org.opencontainers.image.version"], "1_acme0.1.0", "index annotations for a multi-platform target");
  });

  test("the example catalog's git tag java-base17_stackable0.1.0 builds java-base 17 and the Debian base it needs", async () => {
    const root = path.join(work, "example");
    await cp(EXAMPLE, root, { recursive: true });
    const rootFile = path.join(root, "imagewright.yaml");
    // Same catalog, pushed to the test registry; the upstream Debian stays the stack's (127.0.0.1:5000).
    await writeFile(rootFile, (await readFile(rootFile, "utf8")).replace(/^registry: .*$/m, `registry: ${registry.host}`));
    const result = await build(["--catalog", root, "--git-tag", "java-base17_stackable0.1.0", "--push"]);
    assert.equal(result.code, 0, result.stderr.split("\n").slice(-40).join("\n"));
    const summary = parseJson<Summary>(result);
    assert.deepEqual(summary.targets.map((t) => [t.id, t.status]), [
      ["debian-base-12", "built"],
      ["java-base-17", "built"],
    ]);
    const javaBase = client.repository(registry.host, "stackable/java-base");
    assert.equal((await javaBase.resolve("17_stackable0.1.0")).digest, summary.targets[1]!.digest);
    assert.deepEqual(await client.repository(registry.host, "stackable/kafka").listTags().catch(() => []), [], "nothing else was built");
  });
});
