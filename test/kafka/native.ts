// The kafka-native image as it is made on machines without GraalVM: the stand-in
// native broker (examples/catalog/images/kafka-native/standin, Go, franz-go's kfake)
// compiled on the host, then assembled DAEMONLESSLY (src/build's assembler) onto the
// catalog's Debian base with the JVM image's shared run/launch/configure scripts —
// the layout of KIP-974's native image. See docs/kafka.md for what differs from Apache's.

import { execFile } from "node:child_process";
import { chmod, copyFile, cp, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { assemble, type AssembleResult } from "../../src/build/assemble.ts";
import { openLocation } from "../../src/oci/index.ts";
import type { RegistryClient } from "../../src/registry/index.ts";

const run = promisify(execFile);
const IMAGES = fileURLToPath(new URL("../../examples/catalog/images", import.meta.url));
export const STANDIN_SOURCE = join(IMAGES, "kafka-native/standin");
const SHARED_SCRIPTS = join(IMAGES, "kafka/resources/docker");

/** Compiles the stand-in broker: a glibc-linked native executable, as GraalVM's would be. */
export async function buildStandin(outputDirectory: string): Promise<string> {
  const binary = join(outputDirectory, "kafka.Kafka");
  await run("go", ["build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", binary, "."], {
    cwd: STANDIN_SOURCE,
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, CGO_ENABLED: "1", GOFLAGS: "-mod=mod" },
  });
  return binary;
}

/** The image's file tree: /opt/kafka (binary, shared scripts, console logging), and the writable volumes. */
export async function stageNativeTree(binary: string, root: string): Promise<void> {
  await mkdir(join(root, "opt/kafka/docker"), { recursive: true });
  await copyFile(binary, join(root, "opt/kafka/kafka.Kafka"));
  await chmod(join(root, "opt/kafka/kafka.Kafka"), 0o755);
  for (const script of ["run", "launch", "configure"]) {
    await copyFile(join(SHARED_SCRIPTS, script), join(root, "opt/kafka/docker", script));
    await chmod(join(root, "opt/kafka/docker", script), 0o755);
  }
  await cp(join(SHARED_SCRIPTS, "server.properties"), join(root, "opt/kafka/docker/server.properties"));
  for (const dir of ["etc/kafka/secrets", "var/lib/kafka/data", "mnt/shared/config"]) await mkdir(join(root, dir), { recursive: true });
}

export interface NativeAssembly {
  /** Registry reference of the assembled image. */
  ref: string;
  result: AssembleResult;
}

/** Assembles the native image onto `base` (a registry reference) and pushes it as `target`. */
export async function assembleNativeImage(client: RegistryClient, base: string, tree: string, target: string, productVersion: string): Promise<NativeAssembly> {
  const from = await openLocation(base, { client });
  const output = await openLocation(target, { client, forWriting: true });
  const result = await assemble({
    bases: [{ base: { store: from.store, reference: from.reference, name: base } }],
    layers: [{ source: tree, destination: "/" }],
    config: {
      entrypoint: ["/usr/bin/tini", "--", "/opt/kafka/docker/run"],
      env: ["KAFKA_NATIVE_BINARY=/opt/kafka/kafka.Kafka", "KAFKA_HOME=/opt/kafka"],
      user: "1000:1000",
      workdir: "/opt/kafka",
      exposedPorts: ["9092"],
      volumes: ["/var/lib/kafka/data", "/etc/kafka/secrets", "/mnt/shared/config"],
      labels: { "org.opencontainers.image.title": "kafka-native", "org.opencontainers.image.version": productVersion },
    },
    // The broker's user owns the tree: run writes /etc/kafka/server.properties at start.
    owner: { uid: 1000, gid: 1000 },
    modes: "keep",
    sourceDateEpoch: 1735689600,
    target: output.store,
    tag: output.reference,
  });
  return { ref: target, result };
}
