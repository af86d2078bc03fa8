// The generated bake file, checked by structure against plans of the example
// catalog (copied to a temp dir): targets, contexts, args, labels, annotations,
// tags, platforms, cache and outputs.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { bakeTargetName, COMMON_TARGET, generateBake, StepTimes, type BakeOptions } from "../../src/build/bake.ts";
import { planBuild, type BuildPlan } from "../../src/build/index.ts";
import { loadCatalog, type Catalog } from "../../src/catalog/index.ts";
import { ImagewrightError } from "../../src/errors/index.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));

/**
 * A small catalog of our own, so the expectations below do not move when the
 * example catalog does: os ← runtime ← server (two versions, two Dockerfiles) ← addon (+ os).
 */
const FILES: Record<string, string> = {
  "imagewright.yaml": "registry: 127.0.0.1:5000\nnamespace: acme\nvendor: acme\ntagScheme: stackable\nplatforms: [linux/amd64]\nevaluation:\n  namespace: evaluation\nimages: images\n",
  "images/os/image.yaml": 'kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n    buildArgs:\n      UPSTREAM_IMAGE: 127.0.0.1:5000/upstream/os:1\n',
  "images/os/Dockerfile": "ARG UPSTREAM_IMAGE\nFROM ${UPSTREAM_IMAGE}\n",
  "images/runtime/image.yaml": 'kind: base\nversions:\n  - productVersion: "8"\n    imageVersion: 0.2.0\n    dependencies:\n      os: "1"\n',
  "images/runtime/Dockerfile": "ARG OS_IMAGE\nFROM ${OS_IMAGE}\n",
  "images/server/image.yaml":
    'kind: product\nbuildArgs:\n  FLAVOUR: plain\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.3.0\n    dependencies:\n      runtime: "8"\n  - productVersion: 1.5.0\n    imageVersion: 1.0.1\n    dockerfile: Dockerfile.old\n    dependencies:\n      runtime: "8"\n',
  "images/server/Dockerfile": "ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n",
  "images/server/Dockerfile.old": "ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n",
  "images/addon/image.yaml": 'kind: product\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      server: 2.0.0\n      os: "1"\n',
  "images/addon/Dockerfile": "ARG SERVER_IMAGE\nARG OS_IMAGE\nFROM ${SERVER_IMAGE} AS server\nFROM ${OS_IMAGE}\n",
};

async function writeCatalog(root: string, registry = "127.0.0.1:5000"): Promise<Catalog> {
  for (const [name, content] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content.replace("registry: 127.0.0.1:5000", `registry: ${registry}`));
  }
  return loadCatalog(root);
}

let work: string;
let catalog: Catalog;
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-bake-test-"));
  catalog = await writeCatalog(path.join(work, "catalog"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const push: BakeOptions = {
  vendor: "acme",
  sourceDateEpoch: 1_700_000_000,
  revision: "0123456789abcdef0123456789abcdef01234567",
  source: "https://example.org/imagewright.git",
  licenses: "Apache-2.0",
  output: { kind: "push" },
};

describe("bake file from a plan", () => {
  test("a git tag gives one target per image version, in build order, dependencies as target: contexts", () => {
    const plan = planBuild(catalog, { kind: "git-tag", gitTag: "server2.0.0_acme0.3.0" });
    const { file, entries } = generateBake(plan, { ...push, buildArgs: { EXTRA: "yes", FLAVOUR: "fancy" } });
    assert.deepEqual(file.group.default!.targets, ["os-1", "runtime-8", "server-2_0_0"]);
    assert.deepEqual(Object.keys(file.target).sort(), [COMMON_TARGET, "os-1", "runtime-8", "server-2_0_0"].sort());
    assert.deepEqual(entries.map((entry) => entry.id), ["os-1", "runtime-8", "server-2.0.0"]);

    const common = file.target[COMMON_TARGET]!;
    assert.deepEqual(common.args, { SOURCE_DATE_EPOCH: "1700000000" });
    assert.deepEqual(common.output, ["type=registry"]);
    assert.deepEqual(common.labels, {
      "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
      "org.opencontainers.image.source": "https://example.org/imagewright.git",
      "org.opencontainers.image.vendor": "acme",
    });

    const server = file.target["server-2_0_0"]!;
    assert.deepEqual(server.inherits, [COMMON_TARGET]);
    assert.equal(server.context, path.join(work, "catalog", "images", "server"));
    assert.equal(server.dockerfile, "Dockerfile");
    assert.deepEqual(server.tags, ["127.0.0.1:5000/acme/server:2.0.0_acme0.3.0"]);
    assert.deepEqual(server.platforms, ["linux/amd64"]);
    assert.deepEqual(server.contexts, { "127.0.0.1:5000/acme/runtime:8_acme0.2.0": "target:runtime-8" });
    assert.deepEqual(server.args, {
      EXTRA: "yes",
      FLAVOUR: "fancy",
      IMAGE_VERSION: "0.3.0",
      PRODUCT_VERSION: "2.0.0",
      RUNTIME_IMAGE: "127.0.0.1:5000/acme/runtime:8_acme0.2.0",
      RUNTIME_VERSION: "8",
    });
    assert.deepEqual(server.labels, { "org.opencontainers.image.title": "server", "org.opencontainers.image.version": "2.0.0_acme0.3.0" });
    assert.deepEqual(server.annotations, [
      "manifest:org.opencontainers.image.created=2023-11-14T22:13:20Z",
      "manifest:org.opencontainers.image.licenses=Apache-2.0",
      "manifest:org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567",
      "manifest:org.opencontainers.image.source=https://example.org/imagewright.git",
      "manifest:org.opencontainers.image.title=server",
      "manifest:org.opencontainers.image.vendor=acme",
      "manifest:org.opencontainers.image.version=2.0.0_acme0.3.0",
    ]);
    assert.deepEqual(file.target["runtime-8"]!.contexts, { "127.0.0.1:5000/acme/os:1_acme0.1.0": "target:os-1" });
    assert.equal(file.target["os-1"]!.contexts, undefined);
    assert.equal(file.target["os-1"]!.args!.UPSTREAM_IMAGE, "127.0.0.1:5000/upstream/os:1");
  });

  test("a version with its own Dockerfile uses it; an image with two dependencies gets both contexts", () => {
    const old = generateBake(planBuild(catalog, { kind: "selection", selections: ["server=1.5.0"] }), push).file.target["server-1_5_0"]!;
    assert.equal(old.dockerfile, "Dockerfile.old");
    const addon = generateBake(planBuild(catalog, { kind: "selection", selections: ["addon"] }), push).file;
    assert.deepEqual(addon.group.default!.targets, ["os-1", "runtime-8", "server-2_0_0", "addon-2_0_0"]);
    assert.deepEqual(addon.target["addon-2_0_0"]!.contexts, {
      "127.0.0.1:5000/acme/os:1_acme0.1.0": "target:os-1",
      "127.0.0.1:5000/acme/server:2.0.0_acme0.3.0": "target:server-2_0_0",
    });
  });

  test("skipped dependencies are neither targets nor contexts: FROM pulls them from the registry", () => {
    const plan = planBuild(catalog, { kind: "git-tag", gitTag: "server2.0.0_acme0.3.0" });
    const generated = generateBake(plan, { ...push, skip: new Set(["runtime-8", "os-1"]) });
    assert.deepEqual(generated.file.group.default!.targets, ["server-2_0_0"]);
    assert.deepEqual(generated.skipped, ["os-1", "runtime-8"]);
    assert.equal(generated.file.target["server-2_0_0"]!.contexts, undefined);
  });

  test("every context of the example catalog's full plan names a target of the same file", () => {
    const example = loadCatalog(EXAMPLE);
    const file = generateBake(planBuild(example, { kind: "all" }), push).file;
    let contexts = 0;
    for (const target of Object.values(file.target)) {
      for (const value of Object.values(target.contexts ?? {})) {
        contexts++;
        assert.ok(value.slice("target:".length) in file.target, value);
      }
    }
    assert.ok(contexts > 0);
  });

  test("several platforms annotate index and manifests; cache and OCI outputs are per target", () => {
    const plan = planBuild(catalog, { kind: "selection", selections: ["os=1"] });
    const generated = generateBake(plan, {
      ...push,
      platforms: ["linux/amd64", "linux/arm64"],
      cache: { kind: "registry" },
      output: { kind: "oci", directory: path.join(work, "oci-out") },
    });
    const base = generated.file.target["os-1"]!;
    assert.deepEqual(base.platforms, ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(generated.file.target[COMMON_TARGET]!.platforms, ["linux/amd64", "linux/arm64"]);
    assert.ok(base.annotations!.every((annotation) => annotation.startsWith("index,manifest:org.opencontainers.image.")));
    assert.deepEqual(base["cache-from"], ["type=registry,ref=127.0.0.1:5000/acme/os:buildcache"]);
    assert.deepEqual(base["cache-to"], ["type=registry,ref=127.0.0.1:5000/acme/os:buildcache,mode=max"]);
    assert.deepEqual(base.output, [`type=oci,dest=${path.join(work, "oci-out", "os-1")},tar=false`]);
    assert.equal(generated.file.target[COMMON_TARGET]!.output, undefined);
    const inline = generateBake(plan, { ...push, cache: { kind: "inline" } }).file.target["os-1"]!;
    assert.deepEqual(inline["cache-to"], ["type=inline"]);
  });

  test("the same plan and options give byte-identical files", () => {
    const one = JSON.stringify(generateBake(planBuild(catalog, { kind: "all" }), push).file);
    const two = JSON.stringify(generateBake(planBuild(catalog, { kind: "all" }), push).file);
    assert.equal(one, two);
  });

  test("target names keep [A-Za-z0-9_-]; two ids that collide are a conflict", () => {
    assert.equal(bakeTargetName("kafka-4.1.0"), "kafka-4_1_0");
    assert.equal(bakeTargetName("trino-403"), "trino-403");
    const real = planBuild(catalog, { kind: "selection", selections: ["os=1"] });
    const target = real.targets[0]!;
    const clashing: BuildPlan = { trigger: "test", targets: [{ ...target, id: "x-1.0" }, { ...target, id: "x-1_0" }] };
    assert.throws(() => generateBake(clashing, push), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "conflict");
      assert.match(error.message, /x-1\.0 and x-1_0/);
      return true;
    });
  });

  test("a release candidate's dependent gets the context under the reference its FROM argument names", async () => {
    // Kafka's scheme: git tag 2.0.0-rc1 names no product, so both products of 2.0.0 are built as RCs.
    const root = path.join(work, "rc");
    const rcFiles: Record<string, string> = {
      "imagewright.yaml": "registry: 127.0.0.1:5000\nnamespace: acme\nvendor: acme\ntagScheme: kafka\nplatforms: [linux/amd64]\nevaluation:\n  namespace: evaluation\nimages: images\n",
      "images/server/image.yaml": "kind: product\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.1.0\n",
      "images/server/Dockerfile": "FROM scratch\n",
      "images/server-native/image.yaml": "kind: product\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      server: 2.0.0\n",
      "images/server-native/Dockerfile": "ARG SERVER_IMAGE\nFROM ${SERVER_IMAGE}\n",
    };
    for (const [name, content] of Object.entries(rcFiles)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }
    const plan = planBuild(loadCatalog(root), { kind: "git-tag", gitTag: "2.0.0-rc1" });
    const file = generateBake(plan, push).file;
    const server = plan.targets.find((t) => t.id === "server-2.0.0")!;
    const native = plan.targets.find((t) => t.id === "server-native-2.0.0")!;
    assert.match(server.references[0]!, /evaluation\/server:2\.0\.0-rc1$/);
    const fromArgument = native.buildArgs.SERVER_IMAGE!;
    assert.equal(file.target["server-native-2_0_0"]!.contexts![fromArgument], "target:server-2_0_0");
  });

  test("a catalog with a different registry gives references, contexts and cache refs there", async () => {
    const other = await writeCatalog(path.join(work, "other-registry"), "127.0.0.1:15499");
    const file = generateBake(planBuild(other, { kind: "git-tag", gitTag: "server2.0.0_acme0.3.0" }), { ...push, cache: { kind: "registry" } }).file;
    assert.deepEqual(file.target["server-2_0_0"]!.contexts, { "127.0.0.1:15499/acme/runtime:8_acme0.2.0": "target:runtime-8" });
    assert.deepEqual(file.target["server-2_0_0"]!["cache-from"], ["type=registry,ref=127.0.0.1:15499/acme/server:buildcache"]);
  });

  test("buildx's plain progress is attributed to bake targets by step number", () => {
    const times = new StepTimes(["base-1", "app-2_0_0"]);
    for (const line of [
      "#1 [internal] load local bake definitions",
      "#1 DONE 0.0s",
      "#2 [base-1 internal] load build definition from Dockerfile",
      "#2 DONE 0.5s",
      "#4 [app-2_0_0 internal] load build definition from Dockerfile",
      "#5 [base-1 1/1] COPY base.txt /base.txt",
      "#4 DONE 0.2s",
      "#5 DONE 1.25s",
      "#9 [app-2_0_0] exporting to image",
      "#9 pushing layers 0.3s done",
      "#9 DONE 2.0s",
    ]) {
      times.line(line);
    }
    assert.equal(times.seconds.get("base-1"), 1.75);
    assert.equal(times.seconds.get("app-2_0_0"), 2.2);
    const single = new StepTimes(["only"]);
    single.line("#3 [2/3] RUN make");
    single.line("#3 DONE 4.0s");
    assert.equal(single.seconds.get("only"), 4);
  });
});
