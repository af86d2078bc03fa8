import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { changedFilesSince, planBuild } from "../../src/build/index.ts";
import type { BuildPlan, PlanTarget } from "../../src/build/index.ts";
import { loadCatalog } from "../../src/catalog/index.ts";
import type { Catalog, CatalogImage, CatalogVersion } from "../../src/catalog/index.ts";
import { isImagewrightError } from "../../src/errors/index.ts";
import { tagScheme } from "../../src/versioning/index.ts";
import { tempCatalog } from "../catalog/temp-catalog.ts";
import type { TestContext } from "node:test";

const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));

const image = (kind: string, versions: string): string => `kind: ${kind}\nversions:\n${versions}`;
const entry = (productVersion: string, imageVersion: string, extra = ""): string =>
  `  - productVersion: "${productVersion}"\n    imageVersion: ${imageVersion}\n${extra}`;
const dependsOn = (deps: Record<string, string>): string =>
  `    dependencies:\n${Object.entries(deps).map(([name, version]) => `      ${name}: "${version}"\n`).join("")}`;

/** base 12/13 ← java 17/21 ← app 0.9.0 (end of life), 1.0.0, 2.0.0 */
function layeredCatalog(t: TestContext, root = "registry: 127.0.0.1:5000\nnamespace: test\nvendor: stackable\ntagScheme: stackable\nplatforms: [linux/amd64]\nevaluation:\n  namespace: eval\n"): string {
  return tempCatalog(t, {
    "imagewright.yaml": root,
    "images/base/image.yaml": image("base", entry("12", "0.1.0") + entry("13", "0.1.0")),
    "images/java/image.yaml": image("base", entry("17", "0.1.0", dependsOn({ base: "12" })) + entry("21", "0.2.0", dependsOn({ base: "13" }))),
    "images/java/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
    "images/app/image.yaml": image(
      "product\ntestSuite: kafka",
      entry("0.9.0", "1.0.0", dependsOn({ java: "17" }) + "    support: end-of-life\n") +
        entry("1.0.0", "0.3.1", dependsOn({ java: "17" }) + '    buildArgs:\n      EXTRA: "yes"\n') +
        entry("2.0.0", "0.1.0", dependsOn({ java: "21" })),
    ),
  });
}

const ids = (plan: BuildPlan): string[] => plan.targets.map((target) => target.id);

/** Every target comes after the targets it depends on, and those are all in the plan. */
function assertBuildOrder(targets: readonly PlanTarget[]): void {
  const seen = new Set<string>();
  for (const target of targets) {
    for (const dependency of target.dependencies) assert.ok(seen.has(dependency), `${target.id} comes after ${dependency}`);
    seen.add(target.id);
  }
}

describe("plan for a git tag", () => {
  it("builds exactly that image version and the local images it needs, in order", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    const plan = planBuild(catalog, { kind: "git-tag", gitTag: "app2.0.0_stackable0.1.0" });
    assert.equal(plan.trigger, "git tag app2.0.0_stackable0.1.0");
    assert.deepEqual(ids(plan), ["base-13", "java-21", "app-2.0.0"]);
    assert.deepEqual(plan.targets.map((x) => [x.reason, x.depth]), [["dependency", 0], ["dependency", 1], ["requested", 2]]);
    const app = plan.targets[2]!;
    assert.deepEqual(app.tags, ["2.0.0_stackable0.1.0"]);
    assert.deepEqual(app.references, ["127.0.0.1:5000/test/app:2.0.0_stackable0.1.0"]);
    assert.deepEqual(app.dependencies, ["java-21"]);
    assert.deepEqual(app.buildArgs, {
      PRODUCT_VERSION: "2.0.0",
      IMAGE_VERSION: "0.1.0",
      JAVA_VERSION: "21",
      JAVA_IMAGE: "127.0.0.1:5000/test/java:21_stackable0.2.0",
    });
    assert.equal(app.dockerfile, join(catalog.root, "images/app/Dockerfile"));
    assert.equal(app.context, join(catalog.root, "images/app"));
    assert.deepEqual(app.platforms, ["linux/amd64"]);
    assert.equal(app.testSuite, "kafka");
    assert.deepEqual(app.support, { status: "supported" });
  });

  it("keeps the user's build arguments beside the ones imagewright sets", (t) => {
    const plan = planBuild(loadCatalog(layeredCatalog(t)), { kind: "git-tag", gitTag: "app1.0.0_stackable0.3.1" });
    assert.deepEqual(plan.targets.at(-1)!.buildArgs, {
      EXTRA: "yes",
      PRODUCT_VERSION: "1.0.0",
      IMAGE_VERSION: "0.3.1",
      JAVA_VERSION: "17",
      JAVA_IMAGE: "127.0.0.1:5000/test/java:17_stackable0.1.0",
    });
  });

  it("refuses a tag whose image version the catalog does not have, naming both", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    assert.throws(
      () => planBuild(catalog, { kind: "git-tag", gitTag: "app2.0.0_stackable0.2.0" }),
      (error: unknown) => {
        assert.ok(isImagewrightError(error));
        assert.equal(error.kind, "conflict");
        assert.match(error.message, /asks for app 2\.0\.0 image version 0\.2\.0, but the catalog has image version 0\.1\.0/);
        assert.match(error.place!, /images\/app\/image\.yaml:\d+:\d+$/);
        return true;
      },
    );
  });

  it("says which product versions exist when the tag names another", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    assert.throws(() => planBuild(catalog, { kind: "git-tag", gitTag: "app3.0.0_stackable0.1.0" }), {
      kind: "not-found",
      message: "app has no product version 3.0.0 in the catalog",
      hint: "app has: 0.9.0, 1.0.0, 2.0.0",
    });
  });

  it("refuses a git tag that fits no scheme as invalid input", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    assert.throws(
      () => planBuild(catalog, { kind: "git-tag", gitTag: "app-2.0.0" }),
      (error: unknown) => isImagewrightError(error) && error.kind === "invalid-input" && /reading git tag app-2\.0\.0/.test(error.message),
    );
  });

  it("plans the example catalog's native Kafka image after everything it is built from", () => {
    const plan = planBuild(loadCatalog(EXAMPLE), { kind: "git-tag", gitTag: "kafka-native4.1.0_stackable0.1.0" });
    assertBuildOrder(plan.targets);
    const native = plan.targets.at(-1)!;
    assert.equal(native.id, "kafka-native-4.1.0");
    assert.equal(native.reason, "requested");
    assert.equal(plan.targets.filter((x) => x.reason === "requested").length, 1);
    assert.ok(ids(plan).includes("kafka-4.1.0"));
    assert.equal(native.buildArgs["KAFKA_IMAGE"], "127.0.0.1:5000/stackable/kafka:4.1.0_stackable0.1.0");
    assert.equal(native.buildArgs["KAFKA_VERSION"], "4.1.0");
    assert.equal(native.buildArgs["DEBIAN_BASE_IMAGE"], "127.0.0.1:5000/stackable/debian-base:12_stackable0.1.0");
  });
});

describe("plan for the Kafka scheme's git tags", () => {
  const kafkaRoot = "registry: 127.0.0.1:5000\nnamespace: apache\nvendor: apache\ntagScheme: kafka\nplatforms: [linux/amd64]\nevaluation:\n  namespace: rm-eval\n";
  const files = {
    "imagewright.yaml": kafkaRoot,
    "images/app/image.yaml": null,
    "images/app/Dockerfile": null,
    "images/kafka/image.yaml": image("product", entry("4.1.0", "0.1.0", dependsOn({ base: "12" }))),
    "images/kafka/Dockerfile": "FROM scratch\n",
    "images/kafka-native/image.yaml": image("product", entry("4.1.0", "0.1.0", dependsOn({ base: "12" }))),
    "images/kafka-native/Dockerfile": "FROM scratch\n",
  };

  it("builds every product image of the release for a tag without a product (4.1.0)", (t) => {
    const plan = planBuild(loadCatalog(tempCatalog(t, files)), { kind: "git-tag", gitTag: "4.1.0" });
    assert.deepEqual(ids(plan), ["base-12", "kafka-4.1.0", "kafka-native-4.1.0"]);
    assert.deepEqual(plan.targets[1]!.references, ["127.0.0.1:5000/apache/kafka:4.1.0"]);
  });

  it("pushes a release candidate to the evaluation repository under its RC tag", (t) => {
    const plan = planBuild(loadCatalog(tempCatalog(t, files)), { kind: "git-tag", gitTag: "4.1.0-rc1" });
    const native = plan.targets.find((x) => x.id === "kafka-native-4.1.0")!;
    assert.equal(native.rc, 1);
    assert.deepEqual(native.references, ["127.0.0.1:5000/rm-eval/kafka-native:4.1.0-rc1"]);
    // The base it is built from is a release, not a candidate.
    const base = plan.targets.find((x) => x.id === "base-12")!;
    assert.equal(base.rc, undefined);
    assert.deepEqual(base.references, ["127.0.0.1:5000/apache/base:12"]);
  });
});

describe("plan for a selection or everything", () => {
  it("takes the named versions, in build order whatever the order asked", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    const a = planBuild(catalog, { kind: "selection", selections: ["app=2.0.0,1.0.0"] });
    const b = planBuild(catalog, { kind: "selection", selections: ["app=1.0.0", "app=2.0.0"] });
    assert.deepEqual(ids(a), ["base-12", "base-13", "java-17", "java-21", "app-1.0.0", "app-2.0.0"]);
    assert.deepEqual(a.targets, b.targets);
  });

  it("takes every version of an image named alone, end-of-life ones too", (t) => {
    const plan = planBuild(loadCatalog(layeredCatalog(t)), { kind: "selection", selections: ["app"] });
    assert.deepEqual(
      plan.targets.filter((x) => x.reason === "requested").map((x) => x.id),
      ["app-0.9.0", "app-1.0.0", "app-2.0.0"],
    );
  });

  it("--all takes every supported version", (t) => {
    const plan = planBuild(loadCatalog(layeredCatalog(t)), { kind: "all" });
    assert.deepEqual(ids(plan), ["base-12", "base-13", "java-17", "java-21", "app-1.0.0", "app-2.0.0"]);
    assert.ok(plan.targets.every((x) => x.reason === "requested"));
  });

  it("refuses malformed, unknown image and unknown version selections", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    assert.throws(() => planBuild(catalog, { kind: "selection", selections: ["app="] }), { kind: "invalid-input" });
    assert.throws(() => planBuild(catalog, { kind: "selection", selections: ["app=1.0.0,"] }), { kind: "invalid-input" });
    assert.throws(() => planBuild(catalog, { kind: "selection", selections: ["zookeeper"] }), {
      kind: "not-found",
      message: 'the catalog has no image "zookeeper"',
      hint: "images: app, base, java",
    });
    assert.throws(() => planBuild(catalog, { kind: "selection", selections: ["java=11"] }), {
      kind: "not-found",
      message: "java has no product version 11 in the catalog",
    });
  });

  it("refuses a user build argument that imagewright sets itself", (t) => {
    const root = layeredCatalog(t);
    writeFileSync(join(root, "images/base/image.yaml"), image("base", entry("12", "0.1.0", "    buildArgs:\n      PRODUCT_VERSION: x\n") + entry("13", "0.1.0")));
    assert.throws(() => planBuild(loadCatalog(root), { kind: "selection", selections: ["base"] }), {
      kind: "invalid-input",
      message: "build argument PRODUCT_VERSION of base 12 is one imagewright sets itself",
    });
  });

  it("adds floating tags from the tag scheme", (t) => {
    const root = layeredCatalog(t, "registry: 127.0.0.1:5000\nnamespace: test\nvendor: acme\ntagScheme: stackable-legacy\nplatforms: [linux/amd64]\n");
    const plan = planBuild(loadCatalog(root), { kind: "selection", selections: ["java=21"] });
    assert.deepEqual(plan.targets.at(-1)!.references, ["127.0.0.1:5000/test/java:21-acme0.2.0", "127.0.0.1:5000/test/java:21-acme0"]);
  });
});

describe("plan for what changed", () => {
  it("takes the changed image and everything that depends on it", (t) => {
    const plan = planBuild(loadCatalog(layeredCatalog(t)), { kind: "changed", since: "HEAD", changedFiles: ["images/java/Dockerfile"] });
    assert.deepEqual(
      plan.targets.map((x) => [x.id, x.reason]),
      [
        ["base-12", "dependency"],
        ["base-13", "dependency"],
        ["java-17", "requested"],
        ["java-21", "requested"],
        ["app-1.0.0", "dependent"],
        ["app-2.0.0", "dependent"],
      ],
    );
  });

  it("takes everything when imagewright.yaml changed, nothing for files outside images", (t) => {
    const catalog = loadCatalog(layeredCatalog(t));
    assert.equal(planBuild(catalog, { kind: "changed", since: "HEAD", changedFiles: ["imagewright.yaml"] }).targets.length, 6);
    assert.deepEqual(planBuild(catalog, { kind: "changed", since: "HEAD", changedFiles: ["README.md", "images/appendix.txt"] }).targets, []);
  });

  it("asks git what changed since a revision, untracked files included", (t) => {
    const root = layeredCatalog(t);
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", ...args], { cwd: root, encoding: "utf8" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", "catalog");
    writeFileSync(join(root, "images/base/Dockerfile"), "FROM scratch\nLABEL changed=yes\n");
    writeFileSync(join(root, "images/app/notes.txt"), "new file\n");
    const catalog = loadCatalog(root);
    return changedFilesSince(catalog, "HEAD").then((files) => {
      assert.deepEqual(files, ["images/app/notes.txt", "images/base/Dockerfile"]);
      const plan = planBuild(catalog, { kind: "changed", since: "HEAD", changedFiles: files });
      assert.deepEqual(
        plan.targets.filter((x) => x.reason !== "dependency").map((x) => x.id),
        ["base-12", "base-13", "java-17", "java-21", "app-1.0.0", "app-2.0.0"],
      );
    });
  });

  it("refuses a revision git does not know", async (t) => {
    const root = layeredCatalog(t);
    execFileSync("git", ["init", "-q"], { cwd: root });
    await assert.rejects(changedFilesSince(loadCatalog(root), "no-such-branch"), { kind: "invalid-input" });
    await assert.rejects(changedFilesSince(loadCatalog(root), "--output=/tmp/x"), { kind: "invalid-input" });
  });
});

/** An in-memory catalog of random images whose dependencies only point at earlier ones (a DAG). */
function randomCatalog(shape: Array<Array<number[]>>): Catalog {
  const images: CatalogImage[] = [];
  const all: CatalogVersion[][] = [];
  shape.forEach((versions, i) => {
    const name = `img${String(i).padStart(3, "0")}`;
    const list: CatalogVersion[] = versions.map((dependencyPicks, v) => ({
      image: name,
      productVersion: `${v + 1}.0`,
      imageVersion: "0.1.0",
      tag: `${v + 1}.0_stackable0.1.0`,
      dockerfile: `/c/${name}/Dockerfile`,
      context: `/c/${name}`,
      buildArgs: {},
      dependencies: i === 0 ? [] : [...new Set(dependencyPicks.map((pick) => pick % i))].map((target) => {
        const used = all[target]!;
        return { image: used[0]!.image, productVersion: used[pick(dependencyPicks) % used.length]!.productVersion };
      }),
      platforms: ["linux/amd64"],
      support: { status: "supported" },
      testSuite: undefined,
      artifact: undefined,
      place: () => `/c/${name}/image.yaml:1:1`,
    }));
    all.push(list);
    images.push({ name, kind: "base", directory: `/c/${name}`, file: `/c/${name}/image.yaml`, versions: list, byProductVersion: new Map(list.map((x) => [x.productVersion, x])) });
  });
  return {
    root: "/c",
    file: "/c/imagewright.yaml",
    registry: "127.0.0.1:5000",
    namespace: "p",
    vendor: "stackable",
    tagSchemeConfig: "stackable",
    tagScheme: tagScheme("stackable"),
    platforms: ["linux/amd64"],
    evaluation: { registry: "127.0.0.1:5000", namespace: "p" },
    images,
    byName: new Map(images.map((x) => [x.name, x])),
  };
}
const pick = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe("plan over random dependency graphs", () => {
  it("puts every target after its dependencies, includes all of them, and is deterministic", () => {
    const shape = fc.array(fc.array(fc.array(fc.nat(50), { maxLength: 3 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(shape, fc.array(fc.nat(100), { minLength: 1, maxLength: 4 }), (s, picks) => {
        const catalog = randomCatalog(s);
        const selections = picks.map((p) => catalog.images[p % catalog.images.length]!.name);
        const plan = planBuild(catalog, { kind: "selection", selections });
        assertBuildOrder(plan.targets);
        assert.deepEqual(new Set(ids(plan)).size, plan.targets.length);
        for (const name of selections) assert.ok(plan.targets.some((x) => x.image === name && x.reason === "requested"));
        assert.deepEqual(planBuild(catalog, { kind: "selection", selections: [...selections].reverse() }), { ...plan, trigger: `selection ${[...selections].reverse().join(" ")}` });
      }),
      { numRuns: 200 },
    );
  });
});
