// Proves the assembled tarball is a real Kafka: fetched from its loopback URL and
// checked against its .sha512, unpacked, formatted, started with Debian's JDK, then a
// topic is created, produced to and consumed from with the tarball's own CLI tools.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { KAFKA_FIXTURE_VERSIONS, kafkaFixture, serveFixture } from "../support/kafka-fixture.ts";
import { run } from "./exec.ts";
import { PORTS, freePort } from "./ports.ts";

/** The digest from Apache's `gpg --print-md SHA512` layout: `name: XXXXXXXX XXXXXXXX …` over several lines. */
function gpgStyleDigest(text: string, fileName: string): string {
  const prefix = `${fileName}:`;
  assert.ok(text.startsWith(prefix), `checksum file starts with "${prefix}"`);
  const hex = text.slice(prefix.length).replace(/\s+/g, "");
  assert.match(hex, /^[0-9A-F]{128}$/);
  return hex.toLowerCase();
}

/** Replaces (or adds) properties of a shipped properties file, keeping the rest as shipped. */
function withProperties(shipped: string, overrides: Record<string, string>): string {
  const pending = new Map(Object.entries(overrides));
  const lines = shipped.split("\n").map((line) => {
    const key = /^([^#=\s][^=]*)=/.exec(line)?.[1];
    if (key === undefined || !pending.has(key)) return line;
    const value = pending.get(key)!;
    pending.delete(key);
    return `${key}=${value}`;
  });
  for (const [key, value] of pending) lines.push(`${key}=${value}`);
  return `${lines.join("\n")}\n`;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe("Kafka release-tarball fixture", { timeout: 20 * 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const version of KAFKA_FIXTURE_VERSIONS) {
    it(`Kafka ${version}: served with a valid .sha512, unpacks, formats, starts, and round-trips messages`, async () => {
      const fixture = await kafkaFixture(version);
      const fileName = `${fixture.name}.tgz`;

      const served = await serveFixture(fixture.directory, await freePort(PORTS.fixtureHttp));
      cleanups.push(() => served.close());
      const tarballResponse = await fetch(served.urlOf(fileName));
      assert.equal(tarballResponse.status, 200);
      const bytes = Buffer.from(await tarballResponse.arrayBuffer());
      const digest = createHash("sha512").update(bytes).digest("hex");
      const published = await (await fetch(served.urlOf(`${fileName}.sha512`))).text();
      assert.equal(gpgStyleDigest(published, fileName), digest);
      // Byte for byte what Apache's release managers generate.
      const gpg = await run("gpg", ["--batch", "--print-md", "SHA512", fileName], { cwd: fixture.directory });
      assert.equal(gpg.code, 0, gpg.stderr);
      assert.equal(published, gpg.stdout);
      const plain = await (await fetch(served.urlOf(`${fileName}.sha512sum`))).text();
      assert.equal(plain, `${digest}  ${fileName}\n`);
      assert.equal((await fetch(served.urlOf("../.key"))).status, 404);

      const work = await mkdtemp(join(tmpdir(), `imagewright-kafka-${version}-`));
      cleanups.push(() => rm(work, { recursive: true, force: true }));
      await writeFile(join(work, fileName), bytes);
      const untar = await run("tar", ["-xzf", join(work, fileName), "-C", work]);
      assert.equal(untar.code, 0, untar.stderr);
      const home = join(work, fixture.name);
      const bin = (script: string) => join(home, "bin", script);

      const major = Number(version.split(".")[0]);
      const shippedConfig = join(home, "config", major >= 4 ? "server.properties" : "kraft/server.properties");
      const brokerPort = await freePort(PORTS.kafkaBrokers);
      const controllerPort = await freePort(PORTS.kafkaBrokers);
      const bootstrap = `127.0.0.1:${brokerPort}`;
      const quorum: Record<string, string> =
        major >= 4
          ? { "controller.quorum.bootstrap.servers": `127.0.0.1:${controllerPort}` }
          : { "controller.quorum.voters": `1@127.0.0.1:${controllerPort}` };
      const config = join(work, "server.properties");
      await writeFile(
        config,
        withProperties(await readFile(shippedConfig, "utf8"), {
          ...quorum,
          listeners: `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
          "advertised.listeners": `PLAINTEXT://${bootstrap},CONTROLLER://127.0.0.1:${controllerPort}`,
          "log.dirs": join(work, "data"),
        }),
      );
      const env = { LOG_DIR: join(work, "logs"), KAFKA_HEAP_OPTS: "-Xmx512M -Xms128M" };

      const clusterId = await run(bin("kafka-storage.sh"), ["random-uuid"], { env });
      assert.equal(clusterId.code, 0, clusterId.stderr);
      const id = clusterId.stdout.trim();
      assert.match(id, /^[A-Za-z0-9_-]{22}$/);
      const format = await run(
        bin("kafka-storage.sh"),
        ["format", "-t", id, "-c", config, ...(major >= 4 ? ["--standalone"] : [])],
        { env },
      );
      assert.equal(format.code, 0, format.stdout + format.stderr);
      assert.match(await readFile(join(work, "data", "meta.properties"), "utf8"), new RegExp(`cluster.id=${id}`));

      const broker = spawn(bin("kafka-server-start.sh"), [config], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let brokerOutput = "";
      broker.stdout.on("data", (chunk: Buffer) => (brokerOutput = (brokerOutput + chunk.toString()).slice(-20_000)));
      broker.stderr.on("data", (chunk: Buffer) => (brokerOutput = (brokerOutput + chunk.toString()).slice(-20_000)));
      cleanups.push(async () => {
        if (broker.exitCode === null && broker.signalCode === null) {
          broker.kill("SIGKILL");
          await waitForExit(broker, 10_000);
        }
      });

      // Ready when the broker answers an ApiVersions request; never a fixed sleep. The
      // listener accepting connections is polled first: each CLI probe starts a JVM.
      const deadline = Date.now() + 180_000;
      for (;;) {
        assert.ok(broker.exitCode === null, `broker exited early (${broker.exitCode}):\n${brokerOutput}`);
        assert.ok(Date.now() < deadline, `broker not ready after 180 s:\n${brokerOutput}`);
        if (await accepts(brokerPort)) {
          const probe = await run(bin("kafka-broker-api-versions.sh"), ["--bootstrap-server", bootstrap], { env, timeoutMs: 60_000 });
          if (probe.code === 0 && probe.stdout.includes(`${bootstrap} (id: 1`)) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      const topic = `fixture-${version.replaceAll(".", "-")}`;
      const create = await run(
        bin("kafka-topics.sh"),
        ["--bootstrap-server", bootstrap, "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1"],
        { env },
      );
      assert.equal(create.code, 0, create.stdout + create.stderr);
      const list = await run(bin("kafka-topics.sh"), ["--bootstrap-server", bootstrap, "--list"], { env });
      assert.ok(list.stdout.split("\n").includes(topic), list.stdout);

      const messages = Array.from({ length: 25 }, (_, i) => `message ${i} of kafka ${version}`);
      const produce = await run(bin("kafka-console-producer.sh"), ["--bootstrap-server", bootstrap, "--topic", topic], {
        env,
        input: `${messages.join("\n")}\n`,
      });
      assert.equal(produce.code, 0, produce.stdout + produce.stderr);

      const consume = await run(
        bin("kafka-console-consumer.sh"),
        ["--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning", "--max-messages", String(messages.length), "--timeout-ms", "60000"],
        { env },
      );
      assert.equal(consume.code, 0, consume.stderr);
      assert.deepEqual(consume.stdout.trimEnd().split("\n"), messages);

      // The controlled shutdown kafka-server-stop.sh asks for (SIGTERM), to this broker only.
      broker.kill("SIGTERM");
      assert.ok(await waitForExit(broker, 90_000), `broker did not stop after SIGTERM:\n${brokerOutput}`);
      assert.match(await readFile(join(work, "logs", "server.log"), "utf8"), /shut(ting)? down|shutdown/i);
    });
  }
});
