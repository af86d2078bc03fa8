// The Kafka images' configuration functions (resources/docker/configure), run with the
// real bash exactly as the image's entry point runs them: environment → properties,
// exclusions, properties-file reading and the defaults < mounted file < environment merge.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const CONFIGURE = fileURLToPath(new URL("../../examples/catalog/images/kafka/resources/docker/configure", import.meta.url));

interface BashResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `script` in bash after sourcing configure, with exactly `env` (plus PATH). */
function bash(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      ["-c", `set -euo pipefail; source "$0"; ${script}`, CONFIGURE, ...args],
      { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(new Error(`bash did not run: ${error.message}`, { cause: error }));
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

describe("kafka_property_name: KAFKA_* variable → broker property", () => {
  const cases: [string, string][] = [
    ["KAFKA_LOG_RETENTION_HOURS", "log.retention.hours"],
    ["KAFKA_ADVERTISED_LISTENERS", "advertised.listeners"],
    ["KAFKA_NODE_ID", "node.id"],
    ["KAFKA_LISTENER_NAME_SSL_SSL_CLIENT_AUTH", "listener.name.ssl.ssl.client.auth"],
    // "__" is a literal underscore, "___" a dash (Apache's image uses the same escapes).
    ["KAFKA_CONFLUENT_SUPPORT__METRICS_ENABLE", "confluent.support_metrics.enable"],
    ["KAFKA_SOME___DASHED_KEY", "some-dashed.key"],
    ["KAFKA_A____B", "a-.b"],
    ["KAFKA_LISTENER_NAME_CONTROLLER_SASL__ENABLED___MECHANISMS", "listener.name.controller.sasl_enabled-mechanisms"],
    ["KAFKA_X", "x"],
    ["KAFKA_MixedCase_Key", "mixedcase.key"],
    ["KAFKA_NUM_PARTITIONS", "num.partitions"],
  ];
  for (const [variable, property] of cases) {
    it(`${variable} → ${property}`, async () => {
      const result = await bash(`kafka_property_name "$1"`, {}, [variable]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${property}\n`);
    });
  }

  const excluded = [
    "KAFKA_HEAP_OPTS",
    "KAFKA_OPTS",
    "KAFKA_JMX_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_LOG4J_LOGGERS",
    "KAFKA_VERSION",
    "KAFKA_HOME",
    "KAFKA_NATIVE_BINARY",
    // Kubernetes, for a Service named "kafka" with a port named "broker":
    "KAFKA_PORT",
    "KAFKA_SERVICE_HOST",
    "KAFKA_SERVICE_PORT",
    "KAFKA_SERVICE_PORT_BROKER",
    "KAFKA_PORT_9092_TCP",
    "KAFKA_PORT_9092_TCP_ADDR",
    "KAFKA_PORT_9092_TCP_PORT",
    "KAFKA_PORT_9092_TCP_PROTO",
    "KAFKA_PORT_9093_TCP_ADDR",
    // Not KAFKA_ at all, or nothing after the prefix:
    "KAFKA_",
    "KAFKA",
    "JAVA_HOME",
    "XKAFKA_LOG_DIRS",
  ];
  for (const variable of excluded) {
    it(`${variable} is not a property`, async () => {
      const result = await bash(`kafka_property_name "$1"`, {}, [variable]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
    });
  }

  it("keeps look-alikes of excluded names that are real properties", async () => {
    // log4j options are excluded by prefix, but "log.*" broker keys are not.
    const result = await bash(`kafka_property_name KAFKA_LOG_DIRS; kafka_property_name KAFKA_PORTS_X; kafka_property_name KAFKA_OPTS_EXTRA`);
    assert.equal(result.stdout, "log.dirs\nports.x\nopts.extra\n");
  });
});

describe("kafka_env_properties", () => {
  it("maps every property variable, sorted, and leaves the rest out", async () => {
    const result = await bash("kafka_env_properties", {
      KAFKA_NODE_ID: "3",
      KAFKA_LOG_RETENTION_HOURS: "42",
      KAFKA_HEAP_OPTS: "-Xmx1g",
      KAFKA_SERVICE_HOST: "10.0.0.1",
      KAFKA_PORT_9092_TCP: "tcp://10.0.0.1:9092",
      KAFKA_ADVERTISED_LISTENERS: "PLAINTEXT://a:9092,SSL://b:9093",
      KAFKA_SASL_JAAS_CONFIG: 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=q";',
      OTHER: "x",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        "advertised.listeners=PLAINTEXT://a:9092,SSL://b:9093",
        "log.retention.hours=42",
        "node.id=3",
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=q";',
        "",
      ].join("\n"),
    );
  });

  it("refuses a value with a line break, naming the variable", async () => {
    const result = await bash("kafka_env_properties", { KAFKA_LOG_DIRS: "/data\nprocess.roles=broker" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /KAFKA_LOG_DIRS \(property log\.dirs\) contains a line break/);
    assert.doesNotMatch(result.stdout, /process\.roles/);
  });

  it("keeps empty values (an empty property is a setting too)", async () => {
    const result = await bash("kafka_env_properties", { KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM: "" });
    assert.equal(result.stdout, "ssl.endpoint.identification.algorithm=\n");
  });
});

describe("kafka_read_properties and kafka_write_config", () => {
  const withFiles = async (files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), "iw-kafka-config-"));
    try {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), text);
      }
      await body(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  it("reads key=value, key: value and key value, skipping comments and blanks", async () => {
    await withFiles({ "a.properties": "# comment\n! also a comment\n\n  a=1\nb: 2\nc 3\nd=x=y\r\ne\nf=\n" }, async (dir) => {
      const result = await bash(`kafka_read_properties "$1"`, {}, [join(dir, "a.properties")]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "a=1\nb=2\nc=3\nd=x=y\ne=\nf=\n");
    });
  });

  it("refuses continuation lines with file and line number", async () => {
    await withFiles({ "a.properties": "a=1\nb=first \\\n  second\n" }, async (dir) => {
      const file = join(dir, "a.properties");
      const result = await bash(`kafka_read_properties "$1"`, {}, [file]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:2: continuation lines are not supported`));
    });
  });

  it("merges defaults < mounted file < environment, each key once, in first-seen order", async () => {
    await withFiles(
      {
        "defaults.properties": "process.roles=broker,controller\nlog.retention.hours=168\nnum.partitions=1\n",
        "mounted/server.properties": "log.retention.hours=1\nmessage.max.bytes=2000000\nnum.partitions=3\n",
      },
      async (dir) => {
        const output = join(dir, "server.properties");
        const result = await bash(`kafka_write_config "$1" "$2" "$3"`, { KAFKA_LOG_RETENTION_HOURS: "42", KAFKA_PORT: "tcp://x:9092" }, [
          join(dir, "defaults.properties"),
          join(dir, "mounted"),
          output,
        ]);
        assert.equal(result.code, 0, result.stderr);
        const lines = (await readFile(output, "utf8")).split("\n").filter((line) => line !== "" && !line.startsWith("#"));
        assert.deepEqual(lines, ["process.roles=broker,controller", "log.retention.hours=42", "num.partitions=3", "message.max.bytes=2000000"]);
        // It may hold passwords from the environment: readable by its owner only.
        assert.equal((await stat(output)).mode & 0o777, 0o600);
      },
    );
  });

  it("uses the defaults alone when nothing is mounted", async () => {
    await withFiles({ "defaults.properties": "node.id=1\n" }, async (dir) => {
      const output = join(dir, "server.properties");
      const result = await bash(`kafka_write_config "$1" "$2" "$3"`, {}, [join(dir, "defaults.properties"), join(dir, "absent"), output]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(await readFile(output, "utf8"), /^node\.id=1$/m);
    });
  });

  it("fails, writing nothing, when the environment holds a forged line", async () => {
    await withFiles({ "defaults.properties": "node.id=1\n" }, async (dir) => {
      const output = join(dir, "server.properties");
      const result = await bash(`kafka_write_config "$1" "$2" "$3"`, { KAFKA_NODE_ID: "2\nprocess.roles=broker" }, [join(dir, "defaults.properties"), join(dir, "absent"), output]);
      assert.equal(result.code, 1);
      await assert.rejects(readFile(output, "utf8"), { code: "ENOENT" });
    });
  });
});

describe("kafka_random_cluster_id", () => {
  it("makes 22-character URL-safe ids that differ and never start with '-'", async () => {
    const result = await bash("for i in $(seq 50); do kafka_random_cluster_id; done");
    const ids = result.stdout.trim().split("\n");
    assert.equal(ids.length, 50);
    assert.equal(new Set(ids).size, 50);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
