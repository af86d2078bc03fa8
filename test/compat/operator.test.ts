// The operator-shaped example (examples/operator) run as a program: it resolves
// images from a mounted ConfigMap and a real registry, and with --watch follows
// a ConfigMap update without restarting.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RegistryClient } from "../../src/registry/index.ts";
import { pushImage, testImage } from "../registry/fixtures.ts";
import { startRegistry } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";
import { mountConfigMap } from "./kubelet.ts";
import type { MountedConfigMap } from "./kubelet.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

const PORTS = [15250, 15299] as const;
const OPERATOR = fileURLToPath(new URL("../../examples/operator/operator.ts", import.meta.url));
const CLUSTERS = fileURLToPath(new URL("../../examples/operator/clusters.yaml", import.meta.url));

interface Event {
  cluster: string;
  image?: string;
  state?: string;
  refused?: string;
  warnings?: string[];
  matrixDigest: string;
}

function runOnce(args: readonly string[]): Promise<{ code: number; events: Event[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [OPERATOR, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") reject(new Error(`operator example did not run: ${error.message}`, { cause: error }));
      else resolve({ code: error === null ? 0 : (error.code as number), events: stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Event), stderr });
    });
  });
}

describe("the example operator", () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let mount: MountedConfigMap;
  const digests = new Map<string, string>();
  let source: string;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    client = new RegistryClient({ env: {} });
    const repository = client.repository(registry.host, "stackable/kafka");
    for (const tag of ["3.7.0_stackable0.1.1", "3.7.0_stackable0.2.0", "3.7.0_stackable0.2.1", "3.8.0_stackable0.2.0"]) {
      digests.set(tag, (await pushImage(repository, testImage([100]), tag)).digest);
    }
    source = KAFKA_MATRIX.replace("registry: 127.0.0.1:5000", `registry: ${registry.host}`);
    mount = await mountConfigMap({ "matrix.yaml": source });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    await mount?.remove();
  });

  const ref = (tag: string): string => `${registry.host}/stackable/kafka:${tag}@${digests.get(tag)}`;

  it("resolves every cluster's image from the mounted ConfigMap and the registry", async () => {
    const { code, events, stderr } = await runOnce(["--operator-version", "0.3.1", "--configmap", mount.dir, "--clusters", CLUSTERS]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      events.map((e) => [e.cluster, e.image, e.state]),
      [
        ["simple", ref("3.7.0_stackable0.2.1"), "compatible"],
        ["pinned", ref("3.7.0_stackable0.2.0"), "compatible"],
        ["preview", ref("3.8.0_stackable0.2.0"), "unsupported"],
      ],
    );
    assert.match(events[2]?.warnings?.[0] ?? "", /unsupported/);
  });

  it("gives an old operator the old image line and refuses what it cannot run", async () => {
    const { code, events } = await runOnce(["--operator-version", "0.2.4", "--configmap", mount.dir, "--clusters", CLUSTERS]);
    assert.equal(code, 0);
    assert.equal(events[0]?.image, ref("3.7.0_stackable0.1.1"));
    assert.match(events[1]?.refused ?? "", /image 0\.2\.0 is incompatible/);
    assert.match(events[2]?.refused ?? "", /image 0\.2\.0 is incompatible/);
  });

  it("follows a ConfigMap update without restart, and keeps the last good matrix through a broken one", async () => {
    const child: ChildProcess = spawn(process.execPath, [OPERATOR, "--operator-version", "0.3.1", "--configmap", mount.dir, "--clusters", CLUSTERS, "--watch"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const events: Event[] = [];
    let stderr = "";
    let buffered = "";
    let waiter: { count: number; resolve: () => void } | undefined;
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line !== "") events.push(JSON.parse(line) as Event);
      if (waiter !== undefined && events.length >= waiter.count) waiter.resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const until = (count: number): Promise<void> =>
      new Promise((resolve, reject) => {
        if (events.length >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} events; stderr: ${stderr}`)), 20_000);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    try {
      await until(3);
      assert.equal(events[0]?.image, ref("3.7.0_stackable0.2.1"));

      // A broken update is reported on stderr; nothing is reconciled with it.
      await mount.update({ "matrix.yaml": source.replace("state: unsupported", "state: unknown") });
      const deadline = Date.now() + 20_000;
      while (!/matrix update refused/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(stderr, /matrix update refused, keeping the last good one: .*\$\.rules\[4\]\.state/);
      assert.equal(events.length, 3);

      // Image 0.2.1 turns out broken for this operator: the next reconcile moves to 0.2.0.
      const fixed = source.replace('images: ">=0.2.0 <0.3.0"', 'images: "0.2.0"') + '  - { operator: ">=0.3.0 <0.4.0", product: kafka, productVersions: "*", images: "0.2.1", state: incompatible, note: "broken TLS defaults" }\n';
      await mount.update({ "matrix.yaml": fixed });
      await until(6);
      assert.deepEqual(
        events.slice(3).map((e) => [e.cluster, e.image ?? e.refused]),
        [
          ["simple", ref("3.7.0_stackable0.2.0")],
          ["pinned", ref("3.7.0_stackable0.2.0")],
          ["preview", ref("3.8.0_stackable0.2.0")],
        ],
      );
      assert.notEqual(events[3]?.matrixDigest, events[0]?.matrixDigest);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
      await mount.update({ "matrix.yaml": source });
    }
  });
});
