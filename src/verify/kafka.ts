// The Kafka sanity suite (KIP-974's P0 checks and more): a combined KRaft node comes
// up, topics, produce, consume, restart, environment over mounted file, a cluster
// with separate controllers, and mutual TLS. Clients: the image's own CLI tools inside
// the containers and @platformatic/kafka from the host.

import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { containerLogs, containerState, docker, freePort, lastLines, type DockerRun } from "./docker.ts";
import { brokerConfig, clusterMetadata, compareWithPlan, consumeAll, createTopic, planMessages, produce, type Endpoint, type MessagePlan } from "./kafka-clients.ts";
import { makeTestPki, type TestPki } from "./pki.ts";
import type { KafkaSuiteOptions } from "./options.ts";
import { StepFailure, type SuiteDefinition, type SuiteStep } from "./suite.ts";


// Values the mounted file sets; the environment then overrides one of them (step 6).
const FILE_RETENTION_HOURS = "1";
const ENV_RETENTION_HOURS = "42";
const FILE_MESSAGE_MAX_BYTES = "2000000";
// What Kubernetes injects for a Service named "kafka": must not turn into properties.
const KUBERNETES_SERVICE_ENV = [
  "KAFKA_PORT=tcp://10.96.0.20:9092",
  "KAFKA_SERVICE_HOST=10.96.0.20",
  "KAFKA_SERVICE_PORT=9092",
  "KAFKA_SERVICE_PORT_BROKER=9092",
  "KAFKA_PORT_9092_TCP=tcp://10.96.0.20:9092",
  "KAFKA_PORT_9092_TCP_ADDR=10.96.0.20",
  "KAFKA_PORT_9092_TCP_PORT=9092",
  "KAFKA_PORT_9092_TCP_PROTO=tcp",
];
const FORBIDDEN_KEYS = ["port", "service.host", "service.port", "service.port.broker", "port.9092.tcp", "port.9092.tcp.addr", "port.9092.tcp.port", "port.9092.tcp.proto", "heap.opts"];

// The cluster's nodes start together on what may be a 2-core CI machine: the C1 compiler
// alone and a serial collector cut their start-up CPU by about half. The single node
// keeps Kafka's own JVM options, so its startup-to-ready time is the image's real one.
const CLUSTER_JVM_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true";

const env = (pairs: Record<string, string>): string[] => Object.entries(pairs).flatMap(([key, value]) => ["--env", `${key}=${value}`]);

/** Runs a Kafka CLI tool inside a container; fails the step with its output when it fails. */
async function kafkaTool(container: string, tool: string, args: readonly string[], timeoutMs = 90_000): Promise<string> {
  const result = await docker(["exec", container, tool, ...args], { timeoutMs });
  if (result.code !== 0) {
    throw new StepFailure(`${tool} ${args.slice(0, 2).join(" ")} … in ${container} exited with ${result.code}`, lastLines(`${result.stdout}\n${result.stderr}`, 25));
  }
  return result.stdout;
}

/**
 * Waits until the broker answers a metadata request with `brokers` brokers — the
 * readiness probe. Polls; fails at once, with the logs, when the container exits.
 */
async function waitReady(container: string, endpoint: Endpoint, brokers: number, timeoutMs: number, alsoWatch: readonly string[] = []): Promise<number> {
  const began = performance.now();
  let last = "no answer yet";
  while (performance.now() - began < timeoutMs) {
    for (const watched of [container, ...alsoWatch]) {
      const state = await containerState(watched);
      if (!state.running) {
        throw new StepFailure(`container ${watched} stopped (${state.status}, exit code ${state.exitCode}) before ${container} was ready`, await containerLogs(watched, 40));
      }
    }
    try {
      const metadata = await clusterMetadata(endpoint);
      if (metadata.brokers.size >= brokers) return performance.now() - began;
      last = `${metadata.brokers.size} of ${brokers} brokers registered`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await delay(250);
  }
  throw new StepFailure(`${container} was not ready after ${timeoutMs / 1000} s (last probe: ${last})`, await containerLogs(container, 40));
}

export const kafkaSuite: SuiteDefinition<KafkaSuiteOptions> = {
  name: "kafka",
  description: "Kafka broker sanity: ready, topic, produce, consume, restart, env over file, KRaft combined and cluster, mutual TLS",
  steps(run: DockerRun, image: string, options: KafkaSuiteOptions): SuiteStep[] {
    const topic = `verify-${run.id}`;
    let node = "";
    let plain: Endpoint = { bootstrap: [] };
    let secure: Endpoint = { bootstrap: [] };
    let pki: TestPki | undefined;
    let plan: MessagePlan | undefined;
    // The JVM image ships Kafka's command-line tools; a native image has only the broker binary.
    let tools: boolean | undefined;
    const hasTools = async (): Promise<boolean> => (tools ??= (await docker(["exec", node, "bash", "-c", "command -v kafka-topics.sh"])).code === 0);
    const nodeLogs = async (): Promise<string> => (node === "" ? "" : `--- ${node} (last 30 lines) ---\n${await containerLogs(node, 30)}`);

    const startNode = async (context: { measure(name: string, value: number): void }): Promise<string> => {
      const config = await run.scratch("config");
      await writeFile(
        join(config, "server.properties"),
        `# mounted by the suite: step 6 checks the environment beats the first key\nlog.retention.hours=${FILE_RETENTION_HOURS}\nmessage.max.bytes=${FILE_MESSAGE_MAX_BYTES}\n`,
      );
      await chmod(join(config, "server.properties"), 0o644);
      await chmod(config, 0o755);
      pki = await makeTestPki(await run.scratch("secrets"));
      const [hostPort, tlsPort] = [await freePort(), await freePort()];
      plain = { bootstrap: [`127.0.0.1:${hostPort}`] };
      secure = { bootstrap: [`127.0.0.1:${tlsPort}`], tls: { ca: pki.caPem, cert: pki.client.cert, key: pki.client.key } };
      const began = performance.now();
      node = await run.start("kafka", image, [
        "--publish", `127.0.0.1:${hostPort}:19092`,
        "--publish", `127.0.0.1:${tlsPort}:19093`,
        "--volume", `${config}:/mnt/shared/config:ro`,
        "--volume", `${pki.directory}:/etc/kafka/secrets:ro`,
        ...env({
          KAFKA_HEAP_OPTS: options.heap,
          KAFKA_LISTENERS: "PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:19092,SSL://:19093",
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://localhost:9092,HOST://127.0.0.1:${hostPort},SSL://127.0.0.1:${tlsPort}`,
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,HOST:PLAINTEXT,SSL:SSL",
          KAFKA_SSL_CLIENT_AUTH: "required",
          KAFKA_SSL_KEYSTORE_TYPE: "PKCS12",
          KAFKA_SSL_KEYSTORE_LOCATION: `/etc/kafka/secrets/${pki.serverKeystore}`,
          KAFKA_SSL_KEYSTORE_PASSWORD: pki.keystorePassword,
          KAFKA_SSL_KEY_PASSWORD: pki.keystorePassword,
          KAFKA_SSL_TRUSTSTORE_TYPE: "PEM",
          KAFKA_SSL_TRUSTSTORE_LOCATION: `/etc/kafka/secrets/${pki.caFile}`,
          KAFKA_LOG_RETENTION_HOURS: ENV_RETENTION_HOURS,
        }),
        ...KUBERNETES_SERVICE_ENV.flatMap((pair) => ["--env", pair]),
      ]);
      const ready = await waitReady(node, plain, 1, options.readyTimeoutMs);
      context.measure("startupToReadyMs", performance.now() - began);
      return `${node} serves clients on 127.0.0.1:${hostPort} (plain) and 127.0.0.1:${tlsPort} (TLS) ${(ready / 1000).toFixed(1)} s after start`;
    };

    const consumeAndCompare = async (group: string): Promise<string> => {
      if (plan === undefined) throw new Error("no messages were planned");
      const received = await consumeAll(plain, plan.topic, plan.partitions, options.messages, group);
      const problems = compareWithPlan(plan, received);
      if (problems !== "") throw new StepFailure(`consumed records do not match what was produced: ${problems}`);
      return `${options.messages} records read back intact and in order on each of ${plan.partitions} partitions`;
    };

    const steps: SuiteStep[] = [
      { id: "ready", number: 1, title: "the image comes up and is ready", run: startNode, explain: nodeLogs },
      {
        id: "topic",
        number: 2,
        title: "a topic is created",
        needs: ["ready"],
        explain: nodeLogs,
        async run() {
          const viaCli = await hasTools();
          if (viaCli) {
            await kafkaTool(node, "kafka-topics.sh", ["--bootstrap-server", "localhost:9092", "--create", "--topic", topic, "--partitions", String(options.partitions), "--replication-factor", "1"]);
          } else {
            await createTopic(plain, topic, options.partitions, 1);
          }
          const creator = viaCli ? "kafka-topics.sh" : "the host client (the image has no Kafka CLI tools)";
          const metadata = await clusterMetadata(plain, [topic]);
          const described = metadata.topics.get(topic);
          if (described === undefined) throw new StepFailure(`${creator} created ${topic}, but the broker's metadata does not list it`);
          if (described.partitionsCount !== options.partitions) throw new StepFailure(`${topic} has ${described.partitionsCount} partitions, expected ${options.partitions}`);
          return `${creator} created ${topic}; metadata from the host shows ${described.partitionsCount} partitions led by broker ${[...new Set(described.partitions.map((p) => p.leader))].join(",")}`;
        },
      },
      {
        id: "produce",
        number: 3,
        title: `${options.messages} messages are produced`,
        needs: ["topic"],
        explain: nodeLogs,
        async run(context) {
          plan = planMessages(topic, options.partitions, options.messages, run.id);
          const began = performance.now();
          const acknowledged = await produce(plain, plan);
          const ms = performance.now() - began;
          context.measure("produceMs", ms);
          if (acknowledged !== options.messages) throw new StepFailure(`${acknowledged} of ${options.messages} messages acknowledged`);
          return `${acknowledged} messages acknowledged by all in-sync replicas (acks=all, idempotent) in ${(ms / 1000).toFixed(2)} s`;
        },
      },
      {
        id: "consume",
        number: 4,
        title: `${options.messages} messages are consumed, intact and in order per partition`,
        needs: ["produce"],
        explain: nodeLogs,
        run: () => consumeAndCompare(`${run.prefix}-before-restart`),
      },
      {
        id: "restart",
        number: 5,
        title: "the broker restarts and the same messages are consumed again",
        needs: ["consume"],
        explain: nodeLogs,
        async run(context) {
          const began = performance.now();
          const restarted = await docker(["restart", "--time", "30", node], { timeoutMs: 120_000 });
          if (restarted.code !== 0) throw new StepFailure(`docker restart ${node} failed`, restarted.stderr);
          await waitReady(node, plain, 1, options.readyTimeoutMs);
          context.measure("restartToReadyMs", performance.now() - began);
          const formats = (await containerLogs(node, 100_000)).split("\n").filter((line) => line.startsWith("kafka: formatting")).length;
          if (formats !== 1) throw new StepFailure(`storage was formatted ${formats} times; a restart must keep the formatted storage`);
          const fromHost = await consumeAndCompare(`${run.prefix}-after-restart`);
          if (!(await hasTools())) return `storage formatted once; after the restart: ${fromHost} (no Kafka CLI tools in the image to read them with)`;
          const cli = await kafkaTool(node, "kafka-console-consumer.sh", [
            "--bootstrap-server", "localhost:9092", "--topic", topic, "--from-beginning", "--max-messages", String(options.messages), "--timeout-ms", "30000",
          ]);
          const lines = cli.split("\n").filter((line) => line.startsWith("{"));
          if (lines.length !== options.messages) throw new StepFailure(`kafka-console-consumer.sh read ${lines.length} of ${options.messages} records after the restart`, lastLines(cli, 10));
          return `storage formatted once; after the restart: ${fromHost}; kafka-console-consumer.sh also read all ${lines.length}`;
        },
      },
      {
        id: "env-over-file",
        number: 6,
        title: "an environment setting beats the mounted properties file",
        needs: ["ready"],
        explain: nodeLogs,
        async run() {
          // The broker's own id, as the cluster reports it (node.id from the image defaults for Kafka).
          const brokerId = [...(await clusterMetadata(plain)).brokers.keys()][0] ?? 1;
          const values = await brokerConfig(plain, brokerId, ["log.retention.hours", "message.max.bytes"]);
          const retention = values.get("log.retention.hours");
          const maxBytes = values.get("message.max.bytes");
          if (retention !== ENV_RETENTION_HOURS) {
            throw new StepFailure(`log.retention.hours is ${String(retention)}: the mounted file says ${FILE_RETENTION_HOURS}, KAFKA_LOG_RETENTION_HOURS says ${ENV_RETENTION_HOURS}, and the environment must win`);
          }
          if (maxBytes !== FILE_MESSAGE_MAX_BYTES) throw new StepFailure(`message.max.bytes is ${String(maxBytes)}, but the mounted file sets ${FILE_MESSAGE_MAX_BYTES}`);
          const final = await docker(["exec", node, "cat", "/etc/kafka/server.properties"]);
          const keys = final.stdout.split("\n").map((line) => line.split("=")[0] ?? "");
          const leaked = FORBIDDEN_KEYS.filter((key) => keys.includes(key));
          if (leaked.length > 0) throw new StepFailure(`variables that are not broker properties became properties: ${leaked.join(", ")}`, final.stdout);
          return `log.retention.hours=${retention} (env over file's ${FILE_RETENTION_HOURS}), message.max.bytes=${maxBytes} (file over default); Kubernetes service variables and KAFKA_HEAP_OPTS stayed out of the configuration`;
        },
      },
      {
        id: "kraft-combined",
        number: 7,
        title: "a single-node combined KRaft broker",
        needs: ["ready"],
        explain: nodeLogs,
        async run() {
          if (!(await hasTools())) throw new StepFailure("the image has no kafka-metadata-quorum.sh to ask the KRaft quorum with");
          const status = await kafkaTool(node, "kafka-metadata-quorum.sh", ["--bootstrap-server", "localhost:9092", "describe", "--status"]);
          const leader = /LeaderId:\s*(\d+)/.exec(status)?.[1];
          const voters = /CurrentVoters:\s*(.*)/.exec(status)?.[1] ?? "";
          if (leader !== "1" || !/\b1\b/.test(voters)) throw new StepFailure(`node 1 should lead a quorum it votes in; kafka-metadata-quorum.sh says leader ${String(leader)}, voters ${voters}`, status);
          const roles = await brokerConfig(plain, 1, ["process.roles"]);
          if (roles.get("process.roles") !== "broker,controller") throw new StepFailure(`process.roles is ${String(roles.get("process.roles"))}, expected broker,controller`);
          return `node 1 is broker and controller and leads the quorum (voters ${voters.trim()})`;
        },
      },
      {
        id: "tls-client-auth",
        number: 8,
        title: "a TLS listener with client authentication",
        needs: ["ready"],
        explain: nodeLogs,
        async run() {
          if (pki === undefined) throw new Error("no certificates were made");
          const tlsTopic = `${topic}-tls`;
          await createTopic(secure, tlsTopic, 1, 1);
          const tlsPlan = planMessages(tlsTopic, 1, 20, `${run.id}-tls`);
          await produce(secure, tlsPlan);
          const problems = compareWithPlan(tlsPlan, await consumeAll(secure, tlsTopic, 1, 20, `${run.prefix}-tls`));
          if (problems !== "") throw new StepFailure(`over TLS: ${problems}`);
          const anonymous: Endpoint = { bootstrap: secure.bootstrap, tls: { ca: pki.caPem } };
          const refused = await clusterMetadata(anonymous).then(
            () => false,
            () => true,
          );
          if (!refused) throw new StepFailure("a client without a certificate was served: the SSL listener does not require client authentication");
          return "20 records produced and consumed over mutual TLS (certificates made with openssl for this run); a client without a certificate was refused";
        },
      },
      {
        id: "kraft-cluster",
        number: 7,
        title: `a ${options.clusterBrokers}-broker cluster with ${options.clusterControllers} separate controllers on a private network`,
        async run(context) {
          // The single node has done its part; its CPU is better spent on the cluster.
          if (node !== "") await docker(["stop", "--time", "10", node], { timeoutMs: 60_000 });
          const network = await run.network("net");
          const clusterId = clusterIdFor(run.id);
          const voters = Array.from({ length: options.clusterControllers }, (_, i) => `${i + 1}@controller-${i + 1}:9093`).join(",");
          const began = performance.now();
          const controllers: string[] = [];
          for (let i = 1; i <= options.clusterControllers; i++) {
            controllers.push(
              await run.start(`controller-${i}`, image, [
                "--network", network,
                "--network-alias", `controller-${i}`,
                ...env({
                  CLUSTER_ID: clusterId,
                  KAFKA_HEAP_OPTS: options.heap,
                  KAFKA_JVM_PERFORMANCE_OPTS: CLUSTER_JVM_OPTS,
                  KAFKA_PROCESS_ROLES: "controller",
                  KAFKA_NODE_ID: String(i),
                  KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
                  KAFKA_LISTENERS: "CONTROLLER://:9093",
                  KAFKA_ADVERTISED_LISTENERS: `CONTROLLER://controller-${i}:9093`,
                  // PLAINTEXT stays mapped: the image default names it the inter-broker listener.
                  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                }),
              ]),
            );
          }
          const brokers: { name: string; endpoint: Endpoint }[] = [];
          for (let i = 1; i <= options.clusterBrokers; i++) {
            const id = options.clusterControllers + i;
            const port = await freePort();
            const name = await run.start(`broker-${i}`, image, [
              "--network", network,
              "--network-alias", `broker-${i}`,
              "--publish", `127.0.0.1:${port}:19092`,
              ...env({
                CLUSTER_ID: clusterId,
                KAFKA_HEAP_OPTS: options.heap,
                KAFKA_JVM_PERFORMANCE_OPTS: CLUSTER_JVM_OPTS,
                KAFKA_PROCESS_ROLES: "broker",
                KAFKA_NODE_ID: String(id),
                KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
                KAFKA_LISTENERS: "PLAINTEXT://:9092,HOST://:19092",
                KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://broker-${i}:9092,HOST://127.0.0.1:${port}`,
                KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,HOST:PLAINTEXT",
                KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(Math.min(3, options.clusterBrokers)),
                KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(Math.min(3, options.clusterBrokers)),
                KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
              }),
            ]);
            brokers.push({ name, endpoint: { bootstrap: [`127.0.0.1:${port}`] } });
          }
          node = brokers[0]!.name;
          const everyone = [...controllers, ...brokers.map((broker) => broker.name)];
          // Six JVMs start at once here: the cluster as a whole gets twice a single node's window.
          for (const broker of brokers) await waitReady(broker.name, broker.endpoint, options.clusterBrokers, Math.max(5000, 2 * options.readyTimeoutMs - (performance.now() - began)), everyone);
          context.measure("clusterReadyMs", performance.now() - began);
          for (const controller of controllers) {
            const state = await containerState(controller);
            if (!state.running) throw new StepFailure(`controller ${controller} stopped (exit ${state.exitCode})`, await containerLogs(controller, 40));
          }

          const first = brokers[0]!;
          const last = brokers[brokers.length - 1]!;
          const replicas = Math.min(3, options.clusterBrokers);
          const clusterTopic = `${topic}-replicated`;
          await kafkaTool(first.name, "kafka-topics.sh", [
            "--bootstrap-server", "localhost:9092", "--create", "--topic", clusterTopic, "--partitions", String(options.partitions),
            "--replication-factor", String(replicas), "--config", `min.insync.replicas=${Math.min(2, replicas)}`,
          ]);
          const clusterPlan = planMessages(clusterTopic, options.partitions, 300, `${run.id}-cluster`);
          await produce(brokers[1 % brokers.length]!.endpoint, clusterPlan);
          const cli = await kafkaTool(last.name, "kafka-console-consumer.sh", [
            "--bootstrap-server", `broker-${brokers.length}:9092`, "--topic", clusterTopic, "--from-beginning", "--max-messages", "300", "--timeout-ms", "30000",
          ]);
          const read = cli.split("\n").filter((line) => line.startsWith("{")).length;
          if (read !== 300) throw new StepFailure(`kafka-console-consumer.sh on ${last.name} read ${read} of 300 records`, lastLines(cli, 10));
          const metadata = await clusterMetadata(first.endpoint, [clusterTopic]);
          const partitions = metadata.topics.get(clusterTopic)?.partitions ?? [];
          const short = partitions.filter((p) => p.isr.length !== replicas);
          if (partitions.length !== options.partitions || short.length > 0) {
            throw new StepFailure(`${clusterTopic}: ${partitions.length} partitions, ${short.length} with fewer than ${replicas} in-sync replicas`);
          }
          const quorum = await kafkaTool(first.name, "kafka-metadata-quorum.sh", ["--bootstrap-server", "localhost:9092", "describe", "--status"]);
          const quorumVoters = (/CurrentVoters:\s*(.*)/.exec(quorum)?.[1] ?? "").trim();
          const leader = Number(/LeaderId:\s*(\d+)/.exec(quorum)?.[1]);
          if (!(leader >= 1 && leader <= options.clusterControllers)) throw new StepFailure(`the quorum leader is ${leader}, not one of the controllers 1–${options.clusterControllers}`, quorum);
          return `${brokers.length} brokers registered with a ${options.clusterControllers}-controller quorum (leader ${leader}, voters ${quorumVoters}); 300 records produced through ${brokers[1 % brokers.length]!.name} with acks=all, read by kafka-console-consumer.sh on ${last.name}; all ${partitions.length} partitions have ${replicas} in-sync replicas`;
        },
        async explain() {
          const names = ["controller-1", "broker-1"].map((role) => run.name(role));
          const parts = await Promise.all(names.map(async (name) => `--- ${name} (last 20 lines) ---\n${await containerLogs(name, 20)}`));
          return parts.join("\n");
        },
      },
    ];
    return steps;
  },
};

/** A valid KRaft cluster id (16 bytes, URL-safe base64) derived from the run id, shared by the cluster's nodes. */
function clusterIdFor(runId: string): string {
  return Buffer.from(`iw-verify-${runId}`.padEnd(16, "0").slice(0, 16)).toString("base64url");
}
