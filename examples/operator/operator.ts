#!/usr/bin/env node
// An operator-shaped example: reconciles KafkaCluster resources to the image
// the compatibility matrix allows for this operator version, reading the matrix
// from a ConfigMap (file or mounted directory) and tags from a real registry.
// With --watch it re-reconciles whenever the mounted ConfigMap changes.

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { loadMatrix, repositoryPathOf, resolveImage, watchMatrix } from "../../src/compat/index.ts";
import type { Matrix } from "../../src/compat/index.ts";
import { isImagewrightError } from "../../src/errors/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";

/** The part of a KafkaCluster this example reads. */
interface KafkaCluster {
  metadata: { name: string; namespace?: string };
  spec: { image: { productVersion: string; imageVersion?: string; allowUnsupported?: boolean } };
}

const USAGE = "usage: operator.ts --operator-version <semver> --configmap <file|dir> --clusters <file.yaml> [--registry host:port] [--watch]";

const { values } = parseArgs({
  options: {
    "operator-version": { type: "string" },
    configmap: { type: "string" },
    clusters: { type: "string" },
    registry: { type: "string" },
    watch: { type: "boolean", default: false },
  },
});
const operatorVersion = values["operator-version"];
const configmap = values.configmap;
const clustersFile = values.clusters;
if (operatorVersion === undefined || configmap === undefined || clustersFile === undefined) {
  process.stderr.write(USAGE + "\n");
  process.exit(2);
}

/** Every KafkaCluster in a multi-document YAML file. */
async function readClusters(file: string): Promise<KafkaCluster[]> {
  const documents = parseAllDocuments(await readFile(file, "utf8"));
  if (!Array.isArray(documents)) throw new Error(`${file}: not YAML documents`);
  return documents.map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${file}: document ${index + 1}: ${document.errors[0]?.message ?? ""}`);
    const cluster = document.toJS() as Partial<KafkaCluster> & { kind?: string };
    if (cluster.kind !== "KafkaCluster" || cluster.metadata?.name === undefined || cluster.spec?.image?.productVersion === undefined) {
      throw new Error(`${file}: document ${index + 1} is not a KafkaCluster with spec.image.productVersion`);
    }
    return cluster as KafkaCluster;
  });
}

const client = new RegistryClient();

/** One reconcile pass: the StatefulSet image each cluster should run, or why it cannot run. */
async function reconcile(matrix: Matrix, clusters: readonly KafkaCluster[]): Promise<void> {
  const host = values.registry ?? matrix.settings.registry;
  if (host === undefined) throw new Error("the matrix names no registry; pass --registry");
  const store = client.repository(host, repositoryPathOf(matrix, "kafka"));
  for (const cluster of clusters) {
    const { productVersion, imageVersion, allowUnsupported } = cluster.spec.image;
    const event: Record<string, unknown> = { cluster: cluster.metadata.name, matrixDigest: matrix.digest };
    try {
      const answer = await resolveImage(
        matrix,
        { operatorVersion: operatorVersion ?? "", product: "kafka", productVersion, ...(imageVersion === undefined ? {} : { imageVersion }), allowUnsupported: allowUnsupported === true },
        { store },
      );
      if (answer.found) {
        Object.assign(event, { image: answer.reference, state: answer.state, reason: answer.reason, warnings: answer.warnings });
      } else {
        // A real operator would set a status condition; the running StatefulSet stays as it is.
        Object.assign(event, { refused: answer.reason });
      }
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      Object.assign(event, { error: error.message, kind: error.kind });
    }
    process.stdout.write(JSON.stringify(event) + "\n");
  }
}

const clusters = await readClusters(clustersFile);
if (!values.watch) {
  try {
    await reconcile(await loadMatrix(configmap), clusters);
  } finally {
    await client.close();
  }
} else {
  // Reconciles are serialized so two ConfigMap updates in a row never interleave their output.
  let queue = Promise.resolve();
  const enqueue = (matrix: Matrix): void => {
    queue = queue.then(() => reconcile(matrix, clusters)).catch((error: unknown) => {
      process.stderr.write(`reconcile failed: ${String(error)}\n`);
    });
  };
  const watch = await watchMatrix(configmap, {
    onChange: (matrix) => enqueue(matrix),
    onError: (error) => process.stderr.write(`matrix update refused, keeping the last good one: ${error.message} at ${error.place ?? "?"}\n`),
    intervalMs: 1000,
  });
  enqueue(watch.matrix);
  const stop = (): void => {
    watch.close();
    void queue.finally(() => client.close());
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  // The watcher does not hold the event loop open on its own; this does until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.once("SIGTERM", () => clearInterval(keepAlive));
  process.once("SIGINT", () => clearInterval(keepAlive));
}
