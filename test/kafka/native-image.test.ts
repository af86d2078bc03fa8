// kafka-native, assembled daemonlessly: the native broker binary on the Debian base
// (glibc, bash, tini) with the JVM image's launch scripts; the same inputs give the
// same digest, and the image passes the suite's broker steps through `imagewright test`.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { RegistryClient } from "../../src/registry/index.ts";
import type { SuiteReport } from "../../src/verify/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";
import { kafkaImage } from "./images.ts";
import { assembleNativeImage, buildStandin, stageNativeTree } from "./native.ts";

const exec = promisify(execFile);
const PORTS: [number, number] = [15570, 15589];

let work: string;
let registry: TestRegistry;
let client: RegistryClient;
let tree: string;
let base: string;
const pulled: string[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "iw-kafka-native-"));
  registry = await startRegistry({ ports: PORTS });
  client = new RegistryClient();
  // The catalog's Debian base, as built for the JVM image, published where the assembler reads it.
  const built = await kafkaImage("4.1.0");
  const { stdout } = await exec("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "imagewright-test/debian-base"]);
  const local = stdout.trim().split("\n").find((line) => line.startsWith("imagewright-test/debian-base:12-"));
  assert.ok(local !== undefined, `no debian-base image next to ${built.ref}`);
  base = `${registry.host}/stackable/debian-base:12`;
  await exec("docker", ["tag", local, base]);
  await exec("docker", ["push", base]);
  await exec("docker", ["rmi", base]);
  tree = join(work, "tree");
  await stageNativeTree(await buildStandin(work), tree);
});

after(async () => {
  for (const image of pulled) await exec("docker", ["rmi", "--force", image]).catch(() => undefined);
  await client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("kafka-native assembled without a daemon", () => {
  it("gives the same digest for the same inputs", { timeout: 10 * 60_000 }, async () => {
    const first = await assembleNativeImage(client, base, tree, `${registry.host}/stackable/kafka-native:4.1.0-a`, "4.1.0");
    const second = await assembleNativeImage(client, base, tree, `${registry.host}/stackable/kafka-native:4.1.0-b`, "4.1.0");
    assert.equal(first.result.descriptor.digest, second.result.descriptor.digest);
    // The base's layers were already in the target registry: nothing of them moved.
    assert.equal(second.result.traffic.baseBytesRead, 0);
  });

  it("holds a glibc-linked native broker, bash and the shared scripts, runs as uid 1000", { timeout: 10 * 60_000 }, async () => {
    const { ref } = await assembleNativeImage(client, base, tree, `${registry.host}/stackable/kafka-native:4.1.0`, "4.1.0");
    await exec("docker", ["pull", "--quiet", ref]);
    pulled.push(ref);
    const { stdout } = await exec("docker", [
      "run", "--rm", "--network", "none", "--entrypoint", "bash", ref, "-c",
      'id -u; ldd "$KAFKA_NATIVE_BINARY" | grep -o "libc.so.6" | head -1; bash --version | head -1; ls /opt/kafka/docker; command -v java || echo "no java"',
    ]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines[0], "1000");
    assert.equal(lines[1], "libc.so.6");
    assert.match(lines[2] ?? "", /^GNU bash/);
    assert.deepEqual(lines.slice(3, 7), ["configure", "launch", "run", "server.properties"]);
    assert.equal(lines[7], "no java");
  });

  it("passes the suite's broker steps (ready, topic, produce, consume, restart, env over file)", { timeout: 20 * 60_000 }, async () => {
    const ref = `${registry.host}/stackable/kafka-native:4.1.0`;
    const result = await runCli(["--json", "test", ref, "--steps", "ready,topic,produce,consume,restart,env-over-file", "--messages", "500"], { timeoutMs: 15 * 60_000 });
    const report = parseJson<SuiteReport>(result);
    pulled.push(ref);
    const failed = report.steps.filter((step) => step.status !== "passed");
    assert.deepEqual(failed, [], `steps that did not pass:\n${JSON.stringify(failed, null, 2)}`);
    assert.equal(result.code, 0);
    assert.deepEqual(report.steps.map((step) => step.id), ["ready", "topic", "produce", "consume", "restart", "env-over-file"]);
    assert.match(report.steps[1]?.detail ?? "", /the host client \(the image has no Kafka CLI tools\)/);
    assert.match(report.steps[4]?.detail ?? "", /storage formatted once/);
  });
});
