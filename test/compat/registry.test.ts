// Resolution and audit against a real registry: images pushed under ADR018 tags
// to Debian's docker-registry on this concern's ports, digests checked.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RegistryClient } from "../../src/registry/index.ts";
import type { RegistryRepository } from "../../src/registry/index.ts";
import { pushImage, testImage } from "../registry/fixtures.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";
import { auditPods, configMapFor, isMatrixError, parseMatrixSource, readPods, requireImage, resolveImage } from "./imports.ts";
import type { AuditReport, Matrix, Refusal, Resolution } from "./imports.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

const PORTS = [15200, 15249] as const;

describe("resolution against real registry tags", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let repository: RegistryRepository;
  let matrix: Matrix;
  let dir: string;
  let configMapFile: string;
  const digests = new Map<string, string>();

  const push = async (tag: string): Promise<string> => {
    const descriptor = await pushImage(repository, testImage([200]), tag);
    digests.set(tag, descriptor.digest);
    return descriptor.digest;
  };

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    client = new RegistryClient({ env: {} });
    repository = client.repository(registry.host, "stackable/kafka");
    for (const tag of [
      "3.7.0_stackable0.1.0",
      "3.7.0_stackable0.1.1",
      "3.7.0_stackable0.2.0",
      "3.7.0_stackable0.2.1",
      "3.7.0_stackable0.3.0",
      "3.7.0_stackable0.2.2-rc.1",
      "3.8.0_stackable0.2.0",
      "latest",
    ]) {
      await push(tag);
    }
    const source = KAFKA_MATRIX.replace("registry: 127.0.0.1:5000", `registry: ${registry.host}`);
    matrix = parseMatrixSource(source, { name: "matrix.yaml" });
    dir = await mkdtemp(join(tmpdir(), "imagewright-compat-registry-"));
    configMapFile = join(dir, "configmap.yaml");
    await writeFile(configMapFile, configMapFor(matrix));
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const resolve = (operatorVersion: string, productVersion: string, extra: { imageVersion?: string; allowUnsupported?: boolean } = {}): Promise<Resolution | Refusal> =>
    resolveImage(matrix, { operatorVersion, product: "kafka", productVersion, ...extra }, { store: repository });

  it("returns the highest compatible image, pinned by the digest the registry holds", async () => {
    const answer = await resolve("0.3.1", "3.7.0");
    assert.ok(answer.found, answer.found ? "" : answer.reason);
    assert.equal(answer.tag, "3.7.0_stackable0.2.1");
    assert.equal(answer.digest, digests.get("3.7.0_stackable0.2.1"));
    assert.equal(answer.reference, `${registry.host}/stackable/kafka:3.7.0_stackable0.2.1@${answer.digest}`);
    assert.equal(answer.state, "compatible");
    assert.equal(answer.rule?.number, 3);
    assert.deepEqual(answer.warnings, []);
    // The release candidate and `latest` are not candidates; 0.3.0 is uncovered, 0.1.x incompatible.
    assert.deepEqual(
      answer.candidates.map((c) => [c.imageVersion, c.state]),
      [
        ["0.3.0", "unsupported"],
        ["0.2.1", "compatible"],
        ["0.2.0", "compatible"],
        ["0.1.1", "incompatible"],
        ["0.1.0", "incompatible"],
      ],
    );
  });

  it("keeps old operators on images they are compatible with after new images are released", async () => {
    const answer = await resolve("0.2.7", "3.7.0");
    assert.ok(answer.found);
    assert.equal(answer.tag, "3.7.0_stackable0.1.1");
    assert.equal(answer.digest, digests.get("3.7.0_stackable0.1.1"));
  });

  it("answers the same twice, and moves only when the registry changes", async () => {
    const first = await resolve("0.3.1", "3.6.1").catch((error: unknown) => error);
    assert.ok(isMatrixError(first, "not-found"), "no 3.6.1 images yet");
    const a = await resolve("0.3.1", "3.7.0");
    const b = await resolve("0.3.1", "3.7.0");
    assert.deepEqual(a, b);
    const digest = await push("3.7.0_stackable0.2.2");
    try {
      const c = await resolve("0.3.1", "3.7.0");
      assert.ok(c.found);
      assert.deepEqual([c.tag, c.digest], ["3.7.0_stackable0.2.2", digest]);
    } finally {
      await repository.delete(digest);
    }
    const d = await resolve("0.3.1", "3.7.0");
    assert.deepEqual(d, a);
  });

  it("refuses an unsupported image unless the policy allows it, then warns", async () => {
    const refused = await resolve("0.3.1", "3.8.0");
    assert.equal(refused.found, false);
    assert.match(refused.reason, /no compatible image \(allow unsupported images to accept one\): image 0\.2\.0 is unsupported \(rule 5 .* not in the test suite yet\)/);
    const allowed = await resolve("0.3.1", "3.8.0", { allowUnsupported: true });
    assert.ok(allowed.found);
    assert.deepEqual([allowed.tag, allowed.state, allowed.digest], ["3.8.0_stackable0.2.0", "unsupported", digests.get("3.8.0_stackable0.2.0")]);
    assert.match(allowed.warnings[0] ?? "", /using an unsupported image: image 0\.2\.0 is unsupported/);
  });

  it("checks a pinned image version and always refuses incompatible, with the reason", async () => {
    const pinned = await resolve("0.3.1", "3.7.0", { imageVersion: "0.2.0" });
    assert.ok(pinned.found);
    assert.deepEqual([pinned.tag, pinned.digest], ["3.7.0_stackable0.2.0", digests.get("3.7.0_stackable0.2.0")]);
    const incompatible = await resolve("0.3.1", "3.7.0", { imageVersion: "0.1.1", allowUnsupported: true });
    assert.equal(incompatible.found, false);
    assert.match(incompatible.reason, /image 0\.1\.1 is incompatible \(rule 4 .*operator 0\.3 expects the new config directory\)/);
    await assert.rejects(
      requireImage(matrix, { operatorVersion: "0.3.1", product: "kafka", productVersion: "3.7.0", imageVersion: "0.1.1" }, { store: repository }),
      (error) => isMatrixError(error, "failed") && /^refused: /.test(error.message),
    );
  });

  it("answers unknown products, product versions and image versions with not-found", async () => {
    await assert.rejects(resolve("0.3.1", "3.9.0"), (error) => isMatrixError(error, "not-found") && /no image of kafka 3\.9\.0/.test(error.message));
    await assert.rejects(resolve("0.3.1", "3.7.0", { imageVersion: "0.9.9" }), (error) => isMatrixError(error, "not-found") && /image versions there: 0\.3\.0, 0\.2\.1/.test(error.hint ?? ""));
    await assert.rejects(
      resolveImage(matrix, { operatorVersion: "0.3.1", product: "trino", productVersion: "403" }, { store: repository }),
      (error) => isMatrixError(error, "not-found") && /knows no product "trino"/.test(error.message),
    );
    await assert.rejects(resolve("0.3", "3.7.0"), (error) => isMatrixError(error, "invalid-input"));
  });

  it("resolves on the command line: exit 0 found, 1 refused, 4 unknown", async () => {
    const found = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.7.0", "--configmap", configMapFile, "--json"]);
    assert.equal(found.code, 0, found.stderr);
    const resolution = parseJson<Resolution>(found);
    assert.equal(resolution.reference, `${registry.host}/stackable/kafka:3.7.0_stackable0.2.1@${digests.get("3.7.0_stackable0.2.1")}`);

    const human = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.7.0", "--configmap", configMapFile]);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout.split("\n")[0], resolution.reference);
    assert.match(human.stdout, /IMAGE VERSION +TAG +STATE +WHY/);

    const refused = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.8.0", "--configmap", configMapFile, "--json"]);
    assert.equal(refused.code, 1);
    assert.equal(parseJson<Refusal>(refused).found, false);
    const warned = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.8.0", "--configmap", configMapFile, "--allow-unsupported"]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /warning: using an unsupported image/);

    const unknown = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.9.0", "--configmap", configMapFile]);
    assert.equal(unknown.code, 4);
    const overridden = await runCli(["compat", "resolve", "--operator", "0.3.1", "kafka", "3.7.0", "--matrix", configMapFile, "--repository", "other/kafka", "--json"]);
    assert.equal(overridden.code, 4, "an empty repository has no images of 3.7.0");
  });

  it("audits deployed pods: incompatible, unsupported, outdated and where to move", async () => {
    const pod = (name: string, image: string, imageID?: string): unknown => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "kafka" },
      spec: { containers: [{ name: "kafka", image }] },
      status: { containerStatuses: [{ name: "kafka", image, imageID: imageID ?? "" }] },
    });
    const best = `${registry.host}/stackable/kafka:3.7.0_stackable0.2.1@${digests.get("3.7.0_stackable0.2.1")}`;
    const pods = {
      apiVersion: "v1",
      kind: "List",
      items: [
        pod("current", `${registry.host}/stackable/kafka:3.7.0_stackable0.2.1`, `${registry.host}/stackable/kafka@${digests.get("3.7.0_stackable0.2.1")}`),
        pod("older-patch", `${registry.host}/stackable/kafka:3.7.0_stackable0.2.0`),
        pod("old-line", `${registry.host}/stackable/kafka:3.7.0_stackable0.1.1`),
        pod("untested", `${registry.host}/stackable/kafka:3.8.0_stackable0.2.0`),
        pod("moved-tag", `${registry.host}/stackable/kafka:3.7.0_stackable0.2.1`, `${registry.host}/stackable/kafka@sha256:${"0".repeat(64)}`),
        pod("sidecar", "docker.io/library/busybox:1.36"),
      ],
    };
    const podsFile = join(dir, "pods.json");
    await writeFile(podsFile, JSON.stringify(pods));
    const result = await runCli(["compat", "audit", "--pods", podsFile, "--operator", "0.3.1", "--configmap", configMapFile, "--json"]);
    assert.equal(result.code, 1, "an incompatible image fails the audit");
    const report = parseJson<AuditReport>(result);
    const byPod = Object.fromEntries(report.entries.map((e) => [e.pod, [e.status, e.moveTo]]));
    assert.deepEqual(byPod, {
      current: ["compatible", undefined],
      "older-patch": ["outdated", best],
      "old-line": ["incompatible", best],
      untested: ["unsupported", undefined],
      "moved-tag": ["outdated", best],
      sidecar: ["unknown", undefined],
    });
    assert.deepEqual(report.counts, { compatible: 1, unsupported: 1, incompatible: 1, outdated: 2, unknown: 1 });

    const lenient = await runCli(["compat", "audit", "--pods", "-", "--operator", "0.3.1", "--configmap", configMapFile, "--fail-on", "never"], { input: JSON.stringify(pods) });
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stdout, /old-line +kafka +\S+3\.7\.0_stackable0\.1\.1 +incompatible +\S+0\.2\.1@sha256/);

    const broken = await runCli(["compat", "audit", "--pods", "-", "--operator", "0.3.1", "--configmap", configMapFile, "--json"], { input: '{"items": [{"metadata": {}}]}' });
    assert.equal(broken.code, 3);
    assert.equal(parseJson<{ error: { place: string } }>(broken).error.place, "$.items[0].metadata.name");
  });
  it("sees through a floating tag (the form ADR018 replaced) to the image it stands for now", async () => {
    const legacy = client.repository(registry.host, "legacy/kafka");
    const pushed = new Map<string, string>();
    for (const version of ["0.1.1", "0.2.0", "0.2.1"]) {
      const image = testImage([100]);
      pushed.set(version, (await pushImage(legacy, image, `3.7.0-stackable${version}`)).digest);
      // The floating major tag follows the newest image of its major version, as the old release process did.
      await pushImage(legacy, image, "3.7.0-stackable0");
    }
    const legacyMatrix = parseMatrixSource(
      KAFKA_MATRIX.replace("tagScheme: stackable", `tagScheme: stackable-legacy\nproducts:\n  kafka:\n    repository: legacy/kafka`).replace("registry: 127.0.0.1:5000", `registry: ${registry.host}`),
      { name: "legacy.yaml" },
    );
    const pods = readPods(
      JSON.stringify({ kind: "Pod", metadata: { name: "broker-0" }, spec: { containers: [{ name: "kafka", image: `${registry.host}/legacy/kafka:3.7.0-stackable0` }] } }),
      "pod.json",
    );
    const storeFor = (): { store: RegistryRepository } => ({ store: legacy });

    const current = await auditPods(legacyMatrix, "0.3.1", pods, storeFor);
    assert.equal(current.entries[0]?.status, "outdated");
    assert.equal(current.entries[0]?.imageVersion, "0.2.1");
    assert.equal(current.entries[0]?.moveTo, `${registry.host}/legacy/kafka:3.7.0-stackable0.2.1@${pushed.get("0.2.1")}`);
    assert.match(current.entries[0]?.reason ?? "", /floating tag 3\.7\.0-stackable0 stands for 3\.7\.0-stackable0\.2\.1 now.*pin the digest/);

    const old = await auditPods(legacyMatrix, "0.2.5", pods, storeFor);
    assert.equal(old.entries[0]?.status, "incompatible");
    assert.equal(old.entries[0]?.moveTo, `${registry.host}/legacy/kafka:3.7.0-stackable0.1.1@${pushed.get("0.1.1")}`);
  });
});
