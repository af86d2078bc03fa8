// Reading manifests, indexes and image configs (OCI and Docker media types)
// from their bytes, with errors that name the document and the JSON path.

import { z } from "zod";
import { ImagewrightError } from "../errors/index.ts";
import { isDigest } from "./digest.ts";
import { MediaTypes } from "./model.ts";
import type { Descriptor, ImageIndex, ImageManifest } from "./model.ts";

/** Largest manifest imagewright reads; the distribution spec lets registries refuse more than 4 MiB. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

const INDEX_MEDIA_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const IMAGE_MEDIA_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.has(mediaType);
}
export function isImageMediaType(mediaType: string): boolean {
  return IMAGE_MEDIA_TYPES.has(mediaType);
}

const annotations = z.record(z.string(), z.string());
const platform = z.looseObject({
  os: z.string().min(1),
  architecture: z.string().min(1),
  variant: z.string().optional(),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
});
const descriptor = z.looseObject({
  mediaType: z.string().min(1, "a descriptor needs a mediaType"),
  digest: z.string().refine(isDigest, "not a valid digest (sha256:<64 hex> or sha512:<128 hex>)"),
  size: z.number().int().nonnegative(),
  annotations: annotations.optional(),
  platform: platform.optional(),
  artifactType: z.string().optional(),
  urls: z.array(z.string()).optional(),
});
const imageManifest = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
  subject: descriptor.optional(),
  annotations: annotations.optional(),
});
const imageIndex = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptor),
  subject: descriptor.optional(),
  annotations: annotations.optional(),
});
const imageConfig = z.looseObject({
  architecture: z.string().min(1),
  os: z.string().min(1),
  variant: z.string().optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  config: z
    .looseObject({
      User: z.string().optional(),
      Env: z.array(z.string()).nullish(),
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      WorkingDir: z.string().optional(),
      ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
      Volumes: z.record(z.string(), z.unknown()).nullish(),
      Labels: z.record(z.string(), z.string()).nullish(),
      StopSignal: z.string().optional(),
    })
    .optional(),
  rootfs: z.looseObject({ type: z.literal("layers"), diff_ids: z.array(z.string().refine(isDigest, "not a valid digest")) }),
  history: z.array(z.looseObject({ created: z.string().optional(), created_by: z.string().optional(), empty_layer: z.boolean().optional(), comment: z.string().optional() })).optional(),
});

export type ImageConfig = z.infer<typeof imageConfig>;

export type ParsedManifest =
  | { kind: "image"; mediaType: string; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; index: ImageIndex };

/** `$.layers[2].digest` from a zod issue path. */
function jsonPath(path: readonly PropertyKey[]): string {
  return "$" + path.map((key) => (typeof key === "number" ? `[${key}]` : /^[A-Za-z_][\w]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(String(key))}]`)).join("");
}

/** Parses JSON, turning a syntax error into invalid-input at its byte offset. */
export function parseJsonDocument(bytes: Uint8Array | string, input: string): unknown {
  const text = typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const position = /position (\d+)/.exec(message)?.[1];
    throw new ImagewrightError("invalid-input", `not valid JSON: ${message}`, {
      input,
      ...(position === undefined ? { place: `byte ${text.length}` } : { place: `byte ${position}` }),
      cause,
    });
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string, input: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const place = issue === undefined ? "$" : jsonPath(issue.path);
  const message = issue?.code === "invalid_type" && / received undefined$/.test(issue.message) ? `${place} is required` : `${place}: ${issue?.message ?? "invalid"}`;
  throw new ImagewrightError("invalid-input", `invalid ${what}: ${message}`, { input, place });
}

/**
 * Reads a manifest or index. `expectedMediaType` is what the descriptor or the
 * registry said; a document whose own mediaType disagrees is refused, as the
 * image spec asks, so a manifest cannot pass for something it is not.
 */
export function parseManifest(bytes: Uint8Array, input: string, expectedMediaType?: string): ParsedManifest {
  if (bytes.byteLength > MANIFEST_SIZE_LIMIT) {
    throw new ImagewrightError("invalid-input", `manifest is ${bytes.byteLength} bytes, more than the ${MANIFEST_SIZE_LIMIT}-byte limit`, { input, place: `byte ${MANIFEST_SIZE_LIMIT}` });
  }
  const document = parseJsonDocument(bytes, input);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new ImagewrightError("invalid-input", "a manifest is a JSON object", { input, place: "$" });
  }
  const fields = document as Record<string, unknown>;
  if (fields.schemaVersion === 1) {
    throw new ImagewrightError("invalid-input", "Docker schema 1 manifests are not supported (deprecated since 2017); re-push the image with a current client", { input, place: "$.schemaVersion" });
  }
  const own = typeof fields.mediaType === "string" ? fields.mediaType : undefined;
  const usable = (type: string | undefined): boolean => type !== undefined && (isIndexMediaType(type) || isImageMediaType(type));
  if (own !== undefined && usable(expectedMediaType) && usable(own) && own !== expectedMediaType) {
    throw new ImagewrightError("invalid-input", `manifest says its mediaType is ${own}, but it was served as ${expectedMediaType}`, { input, place: "$.mediaType" });
  }
  const mediaType = usable(own) ? own! : usable(expectedMediaType) ? expectedMediaType! : Array.isArray(fields.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
  if (own !== undefined && !usable(own)) {
    throw new ImagewrightError("invalid-input", `unknown manifest mediaType "${own}"`, { input, place: "$.mediaType" });
  }
  if (isIndexMediaType(mediaType)) {
    return { kind: "index", mediaType, index: validate(imageIndex, document, "index", input) };
  }
  return { kind: "image", mediaType, manifest: validate(imageManifest, document, "image manifest", input) };
}

export function parseConfig(bytes: Uint8Array, input: string): ImageConfig {
  return validate(imageConfig, parseJsonDocument(bytes, input), "image config", input);
}

/** Docker's buildx records provenance/SBOM as an index entry of platform unknown/unknown with this annotation. */
export const ATTESTATION_REFERENCE_TYPE = "attestation-manifest";

export function isAttestation(entry: Descriptor): boolean {
  return entry.annotations?.["vnd.docker.reference.type"] === ATTESTATION_REFERENCE_TYPE;
}

/** The image an attestation entry describes (`vnd.docker.reference.digest`), if it says. */
export function attestedDigest(entry: Descriptor): string | undefined {
  return entry.annotations?.["vnd.docker.reference.digest"];
}

/** Serializes a manifest the way registries and tools do: compact JSON, so digests are reproducible. */
export function manifestBytes(document: ImageManifest | ImageIndex): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(document));
}
