// The OCI distribution client: registries as ImageStores (one per repository),
// with authentication, retries and digest checks. Everything else in
// imagewright reaches registries through these exports.

export { RegistryClient, withRegistryClient, type RegistryClientOptions } from "./client.ts";
export { RegistryRepository, fallbackTag } from "./repository.ts";
export { findCredential, hostVariable, dockerConfigPath, type Credential, type CredentialLookup } from "./credentials.ts";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.ts";
export { DigestVerifier, digestOf, isDigest, parseDigest, type DigestAlgorithm, type ParsedDigest } from "./digest.ts";
export { checkHost, checkRepositoryName, checkTag, parseManifestReference, type ManifestReference } from "./names.ts";
export { locateJsonError, jsonErrorPlace, type JsonErrorPlace } from "./json.ts";
