// Audit of what runs in a cluster: each deployed image (from `kubectl get pods
// -o json`) judged by the matrix for one operator version, and the image that
// operator would choose instead when there is a better one.

import { readFile } from "node:fs/promises";
import semver from "semver";
import { z } from "zod";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { parseJsonDocument, parseRegistryReference } from "../oci/index.ts";
import type { RegistryReference } from "../oci/index.ts";
import type { ImageStore } from "../oci/index.ts";
import { parseOperatorVersion, readTag, resolveFloatingTag } from "../versioning/index.ts";
import { readStdin } from "./configmap.ts";
import type { Matrix } from "./model.ts";
import { knowsProduct, resolveImage, schemeOf } from "./resolve.ts";
import type { ResolveOptions, Resolution, Refusal } from "./resolve.ts";
import { evaluate } from "./rules.ts";

export type AuditStatus = "compatible" | "unsupported" | "incompatible" | "outdated" | "unknown";

export interface AuditEntry {
  namespace?: string;
  pod: string;
  container: string;
  image: string;
  /** The digest the node runs (from the pod status), when known. */
  runningDigest?: string;
  product?: string;
  productVersion?: string;
  imageVersion?: string;
  status: AuditStatus;
  reason: string;
  /** The digest-pinned reference the operator would choose; absent when it would choose this image or none. */
  moveTo?: string;
}

export interface AuditReport {
  operatorVersion: string;
  matrixDigest: string;
  entries: AuditEntry[];
  counts: Record<AuditStatus, number>;
}

const containerSchema = z.looseObject({ name: z.string(), image: z.string() });
const statusSchema = z.looseObject({ name: z.string(), imageID: z.string().optional() });
const podSchema = z.looseObject({
  kind: z.literal("Pod").optional(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  spec: z.looseObject({
    containers: z.array(containerSchema),
    initContainers: z.array(containerSchema).optional(),
  }),
  status: z
    .looseObject({
      containerStatuses: z.array(statusSchema).optional(),
      initContainerStatuses: z.array(statusSchema).optional(),
    })
    .optional(),
});
const podListSchema = z.looseObject({ items: z.array(podSchema) });

export type Pod = z.infer<typeof podSchema>;

/** Pods from the JSON of `kubectl get pods -o json` (a List) or `kubectl get pod x -o json` (one Pod). */
export function readPods(text: string, name: string): Pod[] {
  const input = `pod list ${name}`;
  const document = parseJsonDocument(text, input);
  const isList = typeof document === "object" && document !== null && "items" in document;
  const parsed = isList ? podListSchema.safeParse(document) : podSchema.transform((pod) => ({ items: [pod] })).safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const place = "$" + (issue?.path ?? []).map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`)).join("");
    throw new ImagewrightError("invalid-input", `not the JSON of kubectl get pods: ${place}: ${issue?.message ?? "invalid"}`, {
      input,
      place,
      hint: "pass the output of `kubectl get pods -o json`",
    });
  }
  return parsed.data.items;
}

/** Pods from a file, or from stdin for `-`. */
export async function loadPods(location: string, stdin: () => Promise<string> = readStdin): Promise<Pod[]> {
  if (location === "-") return readPods(await stdin(), "<stdin>");
  let text: string;
  try {
    text = await readFile(location, "utf8");
  } catch (cause) {
    throw new ImagewrightError("not-found", `cannot read pod list ${location}`, { input: location, cause });
  }
  return readPods(text, location);
}

/** Where the operator would look for a product's images; the CLI builds it from the matrix and --registry. */
export type StoreFor = (product: string, deployed: RegistryReference) => ResolveOptions;

export async function auditPods(matrix: Matrix, operatorVersion: string, pods: readonly Pod[], storeFor: StoreFor): Promise<AuditReport> {
  parseOperatorVersion(operatorVersion);
  const scheme = schemeOf(matrix);
  const choices = new Map<string, Promise<Resolution | Refusal | ImagewrightError>>();
  const listings = new Map<string, Promise<string[]>>();
  const tagsOf = (store: ImageStore): Promise<string[]> => {
    let tags = listings.get(store.name);
    if (tags === undefined) {
      tags = store.listTags();
      listings.set(store.name, tags);
    }
    return tags;
  };
  const entries: AuditEntry[] = [];
  for (const pod of pods) {
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const imageID = statuses.find((status) => status.name === container.name)?.imageID;
      const runningDigest = /@(sha256:[0-9a-f]{64})$/.exec(imageID ?? "")?.[1];
      const base: AuditEntry = {
        ...(pod.metadata.namespace === undefined ? {} : { namespace: pod.metadata.namespace }),
        pod: pod.metadata.name,
        container: container.name,
        image: container.image,
        ...(runningDigest === undefined ? {} : { runningDigest }),
        status: "unknown",
        reason: "",
      };
      entries.push(await judge(base));
    }
  }

  async function judge(entry: AuditEntry): Promise<AuditEntry> {
    let reference: RegistryReference;
    try {
      reference = parseRegistryReference(entry.image);
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      throw new ImagewrightError(error.kind, error.message, {
        input: `image of pod ${entry.namespace === undefined ? "" : `${entry.namespace}/`}${entry.pod}, container ${entry.container}`,
        place: error.place,
        cause: error,
      });
    }
    const product = reference.repository.split("/").at(-1) ?? "";
    if (!knowsProduct(matrix, product)) return { ...entry, reason: `the matrix knows no product "${product}"` };
    if (reference.tag === undefined) return { ...entry, product, reason: "the image has no tag to read versions from" };
    let reading;
    try {
      reading = readTag(scheme, reference.tag, { products: [product] });
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      return { ...entry, product, reason: `tag does not fit tag scheme ${scheme.name}: ${error.message}` };
    }
    // A floating tag (2.8.0-stackable0) is judged by the image it stands for now; ADR018's reason to
    // leave them: nodes that pulled it at another time run other images, so it is never left as is.
    let floating: string | undefined;
    if (reading.kind === "floating") {
      const { store } = storeFor(product, reference);
      const target = resolveFloatingTag(scheme, reference.tag, await tagsOf(store));
      if (target === undefined) {
        return { ...entry, product, productVersion: reading.coordinates.productVersion, reason: `floating tag ${reference.tag} stands for no image in ${store.name}` };
      }
      reading = readTag(scheme, target.tag, { products: [product] });
      floating = `floating tag ${reference.tag} stands for ${target.tag} now; nodes that pulled it earlier may run other images`;
    }
    const { productVersion, imageVersion } = reading.coordinates;
    if (reading.kind !== "release" || imageVersion === undefined) {
      return { ...entry, product, productVersion, reason: `a ${reading.kind} tag without an image version to judge` };
    }
    const judged = { ...entry, product, productVersion, imageVersion };
    const evaluated = evaluate(matrix, { operatorVersion, product, productVersion, imageVersion });
    const verdict = floating === undefined ? evaluated : { ...evaluated, reason: `${evaluated.reason}; ${floating}` };
    const key = `${product}\u0000${productVersion}`;
    let choice = choices.get(key);
    if (choice === undefined) {
      choice = resolveImage(matrix, { operatorVersion, product, productVersion }, storeFor(product, reference)).catch((error: unknown) => {
        if (isImagewrightError(error)) return error;
        throw error;
      });
      choices.set(key, choice);
    }
    const best = await choice;
    if (best instanceof ImagewrightError || !best.found) {
      const why = best instanceof ImagewrightError ? best.message : best.reason;
      return { ...judged, status: verdict.state, reason: verdict.state === "compatible" ? verdict.reason : `${verdict.reason}; no replacement: ${why}` };
    }
    if (verdict.state !== "compatible") return { ...judged, status: verdict.state, reason: verdict.reason, moveTo: best.reference };
    if (floating !== undefined) return { ...judged, status: "outdated", reason: `${verdict.reason}; pin the digest`, moveTo: best.reference };
    // Compatible: outdated when the operator would choose a higher image, or when the tag has moved on from what the pod runs.
    const deployedDigest = reference.digest ?? entry.runningDigest;
    if (semver.gt(best.imageVersion, imageVersion)) {
      return { ...judged, status: "outdated", reason: `${verdict.reason}; image ${best.imageVersion} is newer and ${best.state}`, moveTo: best.reference };
    }
    if (best.tag === reference.tag && deployedDigest !== undefined && deployedDigest !== best.digest) {
      return { ...judged, status: "outdated", reason: `${verdict.reason}; tag ${best.tag} now points at ${best.digest}`, moveTo: best.reference };
    }
    return { ...judged, status: "compatible", reason: verdict.reason };
  }

  const counts: Record<AuditStatus, number> = { compatible: 0, unsupported: 0, incompatible: 0, outdated: 0, unknown: 0 };
  for (const entry of entries) counts[entry.status]++;
  return { operatorVersion, matrixDigest: matrix.digest, entries, counts };
}
