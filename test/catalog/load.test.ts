import assert from "node:assert/strict";
import { readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CORE_SCHEMA, load } from "js-yaml";
import { parse } from "yaml";
import { loadCatalog } from "../../src/catalog/index.ts";
import { isImagewrightError } from "../../src/errors/index.ts";
import { APP_IMAGE, tempCatalog } from "./temp-catalog.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));

describe("loading the example catalog", () => {
  const catalog = loadCatalog(EXAMPLE);

  it("reads the root settings", () => {
    assert.equal(catalog.registry, "127.0.0.1:5000");
    assert.equal(catalog.namespace, "stackable");
    assert.equal(catalog.vendor, "stackable");
    assert.equal(catalog.tagScheme.name, "stackable");
    assert.deepEqual(catalog.platforms, ["linux/amd64"]);
    assert.deepEqual(catalog.evaluation, { registry: "127.0.0.1:5000", namespace: "evaluation" });
  });

  it("finds every image, sorted by name, with its kind", () => {
    assert.deepEqual(
      catalog.images.map((image) => [image.name, image.kind]),
      [
        ["debian-base", "base"],
        ["java-base", "base"],
        ["kafka", "product"],
        ["kafka-native", "product"],
      ],
    );
  });

  it("orders product versions by version and applies image defaults", () => {
    const kafka = catalog.byName.get("kafka")!;
    assert.deepEqual(kafka.versions.map((v) => [v.productVersion, v.imageVersion]), [["3.9.1", "0.2.0"], ["4.1.0", "0.1.0"]]);
    const [v3, v4] = kafka.versions;
    // 3.9.1 uses its own Dockerfile, 4.1.0 the image's default.
    assert.equal(v3!.dockerfile, join(EXAMPLE, "images/kafka/Dockerfile.kafka3"));
    assert.equal(v4!.dockerfile, join(EXAMPLE, "images/kafka/Dockerfile"));
    assert.equal(v4!.context, join(EXAMPLE, "images/kafka"));
    assert.deepEqual(v3!.buildArgs, { SCALA_VERSION: "2.13" });
    assert.equal(v4!.testSuite, "kafka");
    assert.deepEqual(v3!.support, { status: "supported", endOfLife: "2026-12-31" });
    assert.deepEqual(v4!.support, { status: "supported" });
    assert.deepEqual(v4!.platforms, ["linux/amd64"]);
  });

  it("expands the artifact URL templates per version", () => {
    const v4 = catalog.byName.get("kafka")!.byProductVersion.get("4.1.0")!;
    assert.deepEqual(v4.artifact, {
      url: "https://archive.apache.org/dist/kafka/4.1.0/kafka_2.13-4.1.0.tgz",
      checksumUrl: "https://archive.apache.org/dist/kafka/4.1.0/kafka_2.13-4.1.0.tgz.sha512",
    });
  });

  it("resolves dependencies with the place they are declared", () => {
    const native = catalog.byName.get("kafka-native")!.versions[0]!;
    assert.deepEqual(
      native.dependencies.map((d) => [d.image, d.productVersion]),
      [
        ["kafka", "4.1.0"],
        ["debian-base", "12"],
      ],
    );
    assert.match(native.dependencies[0]!.place!(), /images\/kafka-native\/image\.yaml:10:7$/);
    assert.match(native.place(), /images\/kafka-native\/image\.yaml:6:5$/);
  });

  it("accepts the catalog's imagewright.yaml as the location too", () => {
    assert.equal(loadCatalog(join(EXAMPLE, "imagewright.yaml")).images.length, 4);
  });
});

describe("loading catalogs", () => {
  it("applies defaults: Dockerfile, platforms from the root, supported", (t) => {
    const catalog = loadCatalog(tempCatalog(t));
    const app = catalog.byName.get("app")!.versions[0]!;
    assert.equal(app.dockerfile, join(catalog.root, "images/app/Dockerfile"));
    assert.deepEqual(app.platforms, ["linux/amd64"]);
    assert.deepEqual(app.support, { status: "supported" });
    assert.deepEqual(catalog.evaluation, { registry: "127.0.0.1:5000", namespace: "test" });
  });

  it("allows a symlink that stays inside the image's folder", (t) => {
    const root = tempCatalog(t, {
      "images/app/docker/Dockerfile.real": "FROM scratch\n",
      "images/app/image.yaml": APP_IMAGE.replace("kind: product\n", "kind: product\ndockerfile: Dockerfile.link\n"),
    });
    symlinkSync("docker/Dockerfile.real", join(root, "images/app/Dockerfile.link"));
    const catalog = loadCatalog(root);
    assert.equal(catalog.byName.get("app")!.versions[0]!.dockerfile, join(root, "images/app/Dockerfile.link"));
  });

  it("ignores hidden folders under images/", (t) => {
    const catalog = loadCatalog(tempCatalog(t, { "images/.cache/notes.txt": "editor state\n" }));
    assert.deepEqual(catalog.images.map((i) => i.name), ["app", "base"]);
  });

  it("says there is no catalog when the folder has no imagewright.yaml", (t) => {
    const root = tempCatalog(t, { "imagewright.yaml": null });
    assert.throws(
      () => loadCatalog(root),
      (error: unknown) => isImagewrightError(error) && error.kind === "not-found" && /imagewright\.yaml does not exist/.test(error.message),
    );
  });
});

describe("the two YAML readers", () => {
  // Data comes from js-yaml (fast), positions from yaml's syntax tree: they must read the same thing.
  it("read every file of the example catalog the same way", () => {
    const files = [join(EXAMPLE, "imagewright.yaml"), ...readdirSync(join(EXAMPLE, "images")).map((name) => join(EXAMPLE, "images", name, "image.yaml"))];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      assert.deepEqual(load(text, { schema: CORE_SCHEMA }), parse(text), file);
    }
  });

  it("agree on the scalars YAML versions disagree about", () => {
    const text = "a: 4.10\nb: yes\nc: 2024-06-30\nd: 0o17\ne: ~\nf: 1e3\ng: .inf\nh: '21'\ni: true\n";
    assert.deepEqual(load(text, { schema: CORE_SCHEMA }), parse(text));
  });
});
