// The OCI image model and the locations images live in: references, manifest
// and config parsing, platforms, OCI layouts, docker archives, and copy.

export * from "./model.ts";
export { DigestVerifier, digestOf, isDigest, parseDigest, sha256, verifyBytes } from "./digest.ts";
export { parsePlatform, formatPlatform, platformMatches, hostPlatform } from "./platform.ts";
export {
  parseManifest,
  parseConfig,
  parseJsonDocument,
  manifestBytes,
  isAttestation,
  attestedDigest,
  isImageMediaType,
  isIndexMediaType,
  MANIFEST_SIZE_LIMIT,
  type ImageConfig,
  type ParsedManifest,
} from "./manifest.ts";
export { selectPlatforms, describeEntry, type PlatformSelection } from "./select.ts";
export { parseReference, parseRegistryReference, formatReference, DOCKER_HUB, type Reference, type RegistryReference, type LayoutReference, type ArchiveReference } from "./reference.ts";
export { OciLayout, REF_NAME } from "./layout.ts";
export { DockerArchive } from "./archive.ts";
export { copy, referenceName, type CopyEvent, type CopyOptions, type CopyResult, type BlobOutcome } from "./copy.ts";
export { openLocation, type Location, type LocationOptions } from "./location.ts";
