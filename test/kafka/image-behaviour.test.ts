// The JVM image's contract in the real engine: non-root, the three volumes, refusals
// before the broker starts, and storage formatting that is idempotent across
// containers on the same data volume (cluster id kept, a contradicting one refused).

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { kafkaImage } from "./images.ts";

const exec = promisify(execFile);
const run = `iw-kafka-image-${randomBytes(4).toString("hex")}`;
const volume = `${run}-data`;
const containers: string[] = [];
let image: string;

async function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec("docker", args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === "number" ? failure.code : 1, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

/** Starts a broker on the shared volume and waits until it says it started, or exited. */
async function startBroker(name: string, env: string[]): Promise<{ logs: string; running: boolean; exitCode: number }> {
  containers.push(name);
  const started = await docker(["run", "--detach", "--name", name, "--volume", `${volume}:/var/lib/kafka/data`, "--env", "KAFKA_HEAP_OPTS=-Xmx256m", ...env.flatMap((e) => ["--env", e]), image]);
  assert.equal(started.code, 0, started.stderr);
  for (let waited = 0; waited < 180_000; waited += 500) {
    const logs = await docker(["logs", name]);
    const text = logs.stdout + logs.stderr;
    const state = (await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", name])).stdout.trim().split(" ");
    if (state[0] !== "true") {
      // Read again: it may have written its last words between the two calls above.
      const last = await docker(["logs", name]);
      return { logs: last.stdout + last.stderr, running: false, exitCode: Number(state[1]) };
    }
    if (/Kafka Server started/.test(text)) return { logs: text, running: true, exitCode: 0 };
    await delay(500);
  }
  throw new Error(`${name} neither started nor exited within 180 s`);
}

before(async () => {
  image = (await kafkaImage("4.1.0")).ref;
  await exec("docker", ["volume", "create", "--label", `imagewright.test=${run}`, volume]);
});

after(async () => {
  if (containers.length > 0) await docker(["rm", "--force", "--volumes", ...containers]);
  await docker(["volume", "rm", "--force", volume]);
});

describe("the kafka image", () => {
  it("runs as uid 1000 and declares the data, secrets and mounted-config volumes", async () => {
    const id = await exec("docker", ["run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u"]);
    assert.equal(id.stdout.trim(), "1000");
    const { stdout } = await exec("docker", ["image", "inspect", "--format", "{{json .Config.Volumes}}", image]);
    assert.deepEqual(Object.keys(JSON.parse(stdout) as Record<string, unknown>).sort(), ["/etc/kafka/secrets", "/mnt/shared/config", "/var/lib/kafka/data"]);
  });

  it("refuses a KAFKA_* value with a line break before the broker starts", async () => {
    const result = await docker(["run", "--rm", "--network", "none", "--env", "KAFKA_NODE_ID=2\nprocess.roles=broker", image]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /KAFKA_NODE_ID \(property node\.id\) contains a line break; refusing it/);
  });

  it("formats storage once: a new container on the same volume keeps the cluster id, a contradicting CLUSTER_ID is refused", { timeout: 10 * 60_000 }, async () => {
    const clusterId = "aW1hZ2V3cmlnaHQtdGVzdA";
    const first = await startBroker(`${run}-first`, [`CLUSTER_ID=${clusterId}`]);
    assert.ok(first.running, first.logs.slice(-3000));
    assert.match(first.logs, new RegExp(`kafka: formatting /var/lib/kafka/data for cluster ${clusterId}`));
    await exec("docker", ["stop", "--time", "30", `${run}-first`]);

    // No CLUSTER_ID: the formatted volume decides.
    const second = await startBroker(`${run}-second`, []);
    assert.ok(second.running, second.logs.slice(-3000));
    assert.doesNotMatch(second.logs, /kafka: formatting/);
    const meta = await exec("docker", ["exec", `${run}-second`, "cat", "/var/lib/kafka/data/meta.properties"]);
    assert.match(meta.stdout, new RegExp(`^cluster\\.id=${clusterId}$`, "m"));
    await exec("docker", ["stop", "--time", "30", `${run}-second`]);

    // A new metadata.log.dir needs formatting, with the volume's cluster id: a contradicting
    // CLUSTER_ID is refused rather than mixing two clusters' storage.
    const third = await startBroker(`${run}-third`, ["CLUSTER_ID=b3RoZXItY2x1c3Rlci1pZA", "KAFKA_METADATA_LOG_DIR=/tmp/metadata"]);
    assert.equal(third.running, false);
    assert.equal(third.exitCode, 1);
    assert.match(third.logs, new RegExp(`CLUSTER_ID is b3RoZXItY2x1c3Rlci1pZA but /var/lib/kafka/data already belongs to cluster ${clusterId}`));
  });
});
