// Real images for the scan tests, in a registry of their own on the scan port range:
// the Debian bookworm base the stack made, and Kafka 3.9.1 / 4.1.0 images assembled
// on it from the release tarball fixture's real jars (Maven Central), tagged as the
// catalog's tag scheme says. Also the scanner databases stack/scanners-db.sh builds.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { assemble } from "../../src/build/assemble.ts";
import { copy, openLocation } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { formatTag, tagScheme } from "../../src/versioning/index.ts";
import { kafkaFixture } from "../support/kafka-fixture.ts";
import { startRegistry } from "../support/registry.ts";
import type { TestRegistry } from "../support/registry.ts";

const run = promisify(execFile);

/** This concern's port range (docs: every helper has its own). */
export const SCAN_PORTS = [15600, 15699] as const;

/** The base image stack/base-images.sh pushes to the stack's registry. */
export const STACK_BASE = "127.0.0.1:5000/upstream/debian:bookworm";

export const KAFKA_VERSIONS = ["3.9.1", "4.1.0"] as const;

export interface ScanWorld {
  registry: TestRegistry;
  client: RegistryClient;
  /** <registry>/upstream/debian:bookworm */
  base: string;
  /** product version → <registry>/test/kafka:<tag> */
  kafka: Record<(typeof KAFKA_VERSIONS)[number], string>;
  /** A catalog folder naming kafka 3.9.1 and 4.1.0 as supported, in this registry. */
  catalog: string;
  /** The folder holding trivy/ and osv-scanner/ databases. */
  databases: string;
  work: string;
  close(): Promise<void>;
}

export async function scannerDatabases(): Promise<string> {
  const script = fileURLToPath(new URL("../../stack/scanners-db.sh", import.meta.url));
  const { stdout } = await run("bash", [script], { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 });
  const path = stdout.trim().split("\n").at(-1) ?? "";
  if (path === "") throw new Error("stack/scanners-db.sh printed no path");
  return path;
}

export async function scanWorld(): Promise<ScanWorld> {
  const work = await mkdtemp(join(tmpdir(), "imagewright-scan-test-"));
  const registry = await startRegistry({ ports: SCAN_PORTS });
  const client = new RegistryClient();
  const close = async (): Promise<void> => {
    await client.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    const databases = await scannerDatabases();
    const base = `${registry.host}/upstream/debian:bookworm`;
    const from = await openLocation(STACK_BASE, { client });
    const to = await openLocation(base, { client, forWriting: true });
    await copy(from.store, from.reference, to.store, to.reference);

    const scheme = tagScheme("stackable");
    const kafka = {} as Record<(typeof KAFKA_VERSIONS)[number], string>;
    for (const version of KAFKA_VERSIONS) {
      const fixture = await kafkaFixture(version);
      const unpacked = join(work, `kafka-${version}`);
      await mkdir(unpacked, { recursive: true });
      await run("tar", ["-xzf", fixture.tarball, "-C", unpacked, `${fixture.name}/libs`]);
      const reference = `${registry.host}/test/kafka:${formatTag(scheme, { productVersion: version, imageVersion: "0.1.0" })}`;
      const target = await openLocation(reference, { client, forWriting: true });
      const baseLocation = await openLocation(base, { client });
      await assemble({
        bases: [{ base: { store: baseLocation.store, reference: baseLocation.reference, name: base } }],
        layers: [{ source: join(unpacked, fixture.name, "libs"), destination: "/opt/kafka/libs" }],
        config: { user: "1000:1000", workdir: "/opt/kafka" },
        sourceDateEpoch: 0,
        target: target.store,
        tag: target.reference,
      });
      kafka[version] = reference;
    }

    const catalog = join(work, "catalog");
    await mkdir(join(catalog, "images/kafka"), { recursive: true });
    await writeFile(join(catalog, "imagewright.yaml"), `registry: ${registry.host}\nnamespace: test\nvendor: stackable\ntagScheme: stackable\nplatforms: [linux/amd64]\nimages: images\n`);
    await writeFile(join(catalog, "images/kafka/Dockerfile"), "ARG BASE\nFROM ${BASE}\n");
    await writeFile(
      join(catalog, "images/kafka/image.yaml"),
      `kind: product\ndockerfile: Dockerfile\nversions:\n  - productVersion: 3.9.1\n    imageVersion: 0.1.0\n    support:\n      status: supported\n  - productVersion: 4.1.0\n    imageVersion: 0.1.0\n  - productVersion: 3.8.1\n    imageVersion: 0.1.0\n    support:\n      status: supported\n  - productVersion: 3.7.2\n    imageVersion: 0.1.0\n    support:\n      status: end-of-life\n`,
    );
    return { registry, client, base, kafka, catalog, databases, work, close };
  } catch (error) {
    await close();
    throw error;
  }
}
