// The catalog's file formats, defined once with zod: the same definitions validate
// imagewright.yaml and images/<name>/image.yaml and generate the editors' JSON Schemas.

import { z } from "zod";

/**
 * An image name: one OCI repository path component, and (being the product in git tags
 * such as kafka3.7.0_stackable0.1.0) the tag schemes' product-name grammar.
 */
export const IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** A registry host with an optional port, as it appears at the start of a reference. */
const REGISTRY = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;
/** One or more repository path components separated by `/`. */
const NAMESPACE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** os/arch[/variant], the form `docker buildx --platform` takes. */
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
/** A Dockerfile ARG name. */
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DATE = /^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$/;

// YAML reads `4.10` as the number 4.1 and `21` as a number: versions must be quoted
// strings so that what the user wrote is what gets built (the loader says how to quote).
const versionText = (what: string) =>
  z.string({ error: `expected ${what} as a string` }).min(1, { error: `expected a non-empty ${what}` });

const relativePath = (what: string) =>
  z
    .string({ error: `expected ${what} as a path relative to the image's folder` })
    .min(1, { error: `expected a non-empty ${what}` });

const buildArgs = z
  .record(
    z.string().regex(BUILD_ARG, { error: "expected a build argument name (letters, digits, _; not starting with a digit)" }),
    z.string({ error: "expected a build argument value as a string" }),
  )
  .meta({ description: "Build arguments passed to the Dockerfile, name → value." });

const platforms = z
  .array(z.string().regex(PLATFORM, { error: 'expected a platform such as "linux/amd64" or "linux/arm64/v8"' }), {
    error: 'expected a list of platforms such as ["linux/amd64"]',
  })
  .min(1, { error: "expected at least one platform" })
  .meta({ description: "Platforms to build, os/arch[/variant]." });

const supportStatus = z.enum(["supported", "end-of-life"], {
  error: 'expected "supported" or "end-of-life"',
});
const date = z.string().regex(DATE, { error: "expected a date as YYYY-MM-DD" });

const support = z
  .union(
    [
      supportStatus,
      z.strictObject({
        status: supportStatus,
        endOfLife: date.optional().meta({ description: "The day support ends (or ended)." }),
      }),
    ],
    { error: 'expected "supported", "end-of-life" or { status, endOfLife: YYYY-MM-DD }' },
  )
  .meta({ description: "Whether this product version is supported; end-of-life versions are no longer built by --all." });

const artifact = z
  .strictObject({
    url: z.string({ error: "expected a URL template" }).meta({
      description: "Where the product release comes from; {productVersion} and {imageVersion} are replaced.",
    }),
    checksumUrl: z
      .string({ error: "expected a URL template" })
      .optional()
      .meta({ description: "Where its checksum file comes from (e.g. <url>.sha512); same placeholders as url." }),
  })
  .meta({ description: "The product release artifact the Dockerfile downloads (build args ARTIFACT_URL, ARTIFACT_CHECKSUM_URL)." });

const dependencies = z
  .record(
    z.string().regex(IMAGE_NAME, { error: "expected an image name of the catalog (lowercase letters, digits, . _ -)" }),
    versionText("product version"),
  )
  .meta({ description: 'Local images this one is built from, image name → product version (e.g. java-base: "21").' });

const testSuite = z
  .string({ error: "expected the name of a test suite" })
  .min(1)
  .meta({ description: "The sanity test suite to run against the built image (e.g. kafka)." });

export const productVersionSchema = z
  .strictObject({
    productVersion: versionText("product version").meta({ description: 'The packaged product\'s version, e.g. "3.9.1".' }),
    imageVersion: z
      .string({ error: "expected an image version (SemVer, e.g. 0.1.0) as a string" })
      .meta({ description: "SemVer of the image for this product version; one per product version." }),
    dockerfile: relativePath("Dockerfile").optional().meta({ description: "Overrides the image's Dockerfile for this version." }),
    buildArgs: buildArgs.optional(),
    dependencies: dependencies.optional(),
    platforms: platforms.optional(),
    support: support.optional(),
    testSuite: testSuite.optional(),
    artifact: artifact.optional(),
  })
  .meta({ description: "One product version of the image and how to build it." });

export const imageFileSchema = z
  .strictObject({
    kind: z
      .enum(["product", "base"], { error: 'expected "product" or "base"' })
      .meta({ description: "product: an image users run (kafka); base: an image other images build on." }),
    description: z.string({ error: "expected a description as a string" }).optional(),
    dockerfile: relativePath("Dockerfile").optional().meta({ description: "The default Dockerfile, relative to the image's folder (default: Dockerfile)." }),
    context: relativePath("build context")
      .optional()
      .meta({ description: "The build context, a folder inside the image's folder (default: the image's folder)." }),
    buildArgs: buildArgs.optional(),
    platforms: platforms.optional(),
    testSuite: testSuite.optional(),
    artifact: artifact.optional(),
    versions: z
      .array(productVersionSchema, { error: "expected a list of product versions" })
      .min(1, { error: "expected at least one product version" }),
  })
  .meta({ title: "imagewright image", description: "One image of the catalog: images/<name>/image.yaml." });

const tagScheme = z
  .union(
    [
      z.string().min(1).meta({ description: "A preset: stackable, stackable-legacy or kafka." }),
      z.strictObject({ preset: z.string().min(1), vendor: z.string().min(1).optional() }),
      z.strictObject({
        registryTag: z.string().min(1),
        gitTag: z.string().min(1).optional(),
        rcRegistryTag: z.string().min(1).optional(),
        rcGitTag: z.string().min(1).optional(),
        floatingTags: z.array(z.string().min(1)).optional(),
        vendor: z.string().min(1).optional(),
        name: z.string().min(1).optional(),
        imageNames: z.record(z.string(), z.string()).optional(),
      }),
    ],
    { error: "expected a preset name, { preset, vendor } or a custom scheme { registryTag, gitTag, … }" },
  )
  .meta({ description: "How (image, product version, image version) become registry and git tags." });

export const catalogFileSchema = z
  .strictObject({
    registry: z
      .string({ error: "expected a registry host, e.g. 127.0.0.1:5000" })
      .regex(REGISTRY, { error: "expected a registry host with an optional port, e.g. 127.0.0.1:5000 or registry.example.com" })
      .meta({ description: "The registry images are pushed to, host[:port]." }),
    namespace: z
      .string({ error: "expected a namespace (organisation), e.g. stackable" })
      .regex(NAMESPACE, { error: "expected a namespace of lowercase path components, e.g. stackable or acme/images" })
      .meta({ description: "The organisation part of every reference: <registry>/<namespace>/<image>:<tag>." }),
    // The tag scheme checks the word itself (it must end with a letter to split tags exactly).
    vendor: z
      .string({ error: "expected a vendor word, e.g. stackable" })
      .min(1, { error: "expected a non-empty vendor word" })
      .meta({ description: "The vendor word of the tag scheme (2.8.0_<vendor>0.1.0)." }),
    tagScheme,
    platforms: platforms.meta({ description: "Default platforms for every image." }),
    evaluation: z
      .strictObject({
        registry: z.string().regex(REGISTRY, { error: "expected a registry host with an optional port" }).optional(),
        namespace: z.string().regex(NAMESPACE, { error: "expected a namespace of lowercase path components" }),
      })
      .optional()
      .meta({ description: "Where release candidates are pushed for evaluation (default registry: the catalog's)." }),
    images: relativePath("images folder")
      .optional()
      .meta({ description: "The folder holding one folder per image, each with an image.yaml (default: images)." }),
  })
  .meta({ title: "imagewright catalog", description: "The catalog root: imagewright.yaml." });

export type CatalogFile = z.infer<typeof catalogFileSchema>;
export type ImageFile = z.infer<typeof imageFileSchema>;
export type ProductVersionEntry = z.infer<typeof productVersionSchema>;

export const SCHEMA_FILES = {
  catalog: { file: "catalog.schema.json", schema: catalogFileSchema },
  image: { file: "image.schema.json", schema: imageFileSchema },
} as const;
export type SchemaName = keyof typeof SCHEMA_FILES;

/** The editors' JSON Schema of one catalog file kind, generated from the validating definition. */
export function jsonSchema(name: SchemaName): Record<string, unknown> {
  return z.toJSONSchema(SCHEMA_FILES[name].schema, { target: "draft-2020-12", io: "input" });
}

/** Every key the formats know (at any depth), to suggest the intended one when a key is mistyped. */
export const KNOWN_KEYS: readonly string[] = [...new Set([...objectKeys(catalogFileSchema), ...objectKeys(imageFileSchema)])];

function objectKeys(schema: z.core.$ZodType): string[] {
  const def = schema._zod.def as unknown as {
    type: string;
    shape?: Record<string, z.core.$ZodType>;
    innerType?: z.core.$ZodType;
    element?: z.core.$ZodType;
    options?: z.core.$ZodType[];
    valueType?: z.core.$ZodType;
  };
  switch (def.type) {
    case "object":
      return Object.entries(def.shape ?? {}).flatMap(([key, value]) => [key, ...objectKeys(value)]);
    case "optional":
      return def.innerType === undefined ? [] : objectKeys(def.innerType);
    case "array":
      return def.element === undefined ? [] : objectKeys(def.element);
    case "union":
      return (def.options ?? []).flatMap(objectKeys);
    case "record":
      return def.valueType === undefined ? [] : objectKeys(def.valueType);
    default:
      return [];
  }
}
