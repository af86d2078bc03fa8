// Image references as users type them: registry references with Docker Hub
// defaults, `oci:path[:tag]` layouts and `docker-archive:file.tar[:name]`.
// Malformed text is invalid-input naming the reference and the column.

import { ImagewrightError } from "../errors/index.ts";
import { checkHost, checkRepositoryName, checkTag } from "../registry/index.ts";
import { parseDigest } from "./digest.ts";

export const DOCKER_HUB = "docker.io";

export interface RegistryReference {
  transport: "registry";
  /** `host[:port]`, `docker.io` for Docker Hub. */
  registry: string;
  /** `org/kafka`; `library/kafka` on Docker Hub for one-word names. */
  repository: string;
  /** As written; absent when the reference has none. */
  tag?: string;
  digest?: string;
}

export interface LayoutReference {
  transport: "oci";
  path: string;
  tag?: string;
}

export interface ArchiveReference {
  transport: "docker-archive";
  path: string;
  /** The image's name inside the archive (`kafka:3.7.0`), as `docker save` records it. */
  name?: string;
}

export type Reference = RegistryReference | LayoutReference | ArchiveReference;

function fail(text: string, column: number, message: string, hint?: string): never {
  throw new ImagewrightError("invalid-input", `invalid image reference: ${message}`, {
    input: `reference "${text}"`,
    place: `column ${column}`,
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * Runs one of the registry grammar checks (../registry/, the single
 * place the distribution grammar lives) on a part of the reference that starts
 * at 0-based `offset`, and re-reports a failure at its column in the whole text.
 */
function checkPart(text: string, offset: number, check: () => unknown, hint?: string): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof ImagewrightError)) throw error;
    const inner = /(?:character|column)s? (\d+)/.exec(error.place ?? "")?.[1];
    fail(text, offset + Number(inner ?? 1), error.message, hint ?? error.hint);
  }
}

/** Parses `[host[:port]/]path[:tag][@digest]` with Docker Hub defaults; `offset` is where it starts in `text`. */
export function parseRegistryReference(text: string, body = text, offset = 0): RegistryReference {
  if (body === "") fail(text, offset + 1, "empty reference");
  let name = body;
  let digest: string | undefined;
  const at = body.indexOf("@");
  if (at >= 0) {
    name = body.slice(0, at);
    digest = body.slice(at + 1);
    const value = digest;
    checkPart(text, offset + at + 1, () => parseDigest(value));
  }
  let tag: string | undefined;
  const colon = name.indexOf(":", name.lastIndexOf("/") + 1);
  if (colon >= 0) {
    const value = name.slice(colon + 1);
    checkPart(text, offset + colon + 1, () => checkTag(value));
    tag = value;
    name = name.slice(0, colon);
  }
  if (name === "") fail(text, offset + 1, "missing repository name");
  let registry = DOCKER_HUB;
  let path = name;
  let pathOffset = offset;
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  // Docker's rule: the first component is a host when it looks like one.
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || /[A-Z]/.test(first) || first.startsWith("["))) {
    checkPart(text, offset, () => checkHost(first));
    registry = first === "index.docker.io" || first === "registry-1.docker.io" ? DOCKER_HUB : first;
    path = name.slice(slash + 1);
    pathOffset = offset + slash + 1;
  }
  checkPart(text, pathOffset, () => checkRepositoryName(path), /[A-Z]/.test(path) ? "repository names are lower-case" : undefined);
  const repository = registry === DOCKER_HUB && !path.includes("/") ? `library/${path}` : path;
  return { transport: "registry", registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Parses any reference imagewright accepts; see docs/oci.md for the forms. */
export function parseReference(text: string): Reference {
  if (text.startsWith("oci:")) {
    const rest = text.slice(4);
    const colon = rest.indexOf(":");
    const path = colon < 0 ? rest : rest.slice(0, colon);
    if (path === "") fail(text, 5, "oci: needs a directory path", "oci:/path/to/layout[:tag]");
    if (colon < 0) return { transport: "oci", path };
    const tag = rest.slice(colon + 1);
    checkPart(text, 4 + colon + 1, () => checkTag(tag));
    return { transport: "oci", path, tag };
  }
  if (text.startsWith("docker-archive:")) {
    const rest = text.slice(15);
    const colon = rest.indexOf(":");
    const path = colon < 0 ? rest : rest.slice(0, colon);
    if (path === "") fail(text, 16, "docker-archive: needs a file path", "docker-archive:/path/to/image.tar[:name:tag]");
    if (colon < 0) return { transport: "docker-archive", path };
    const name = rest.slice(colon + 1);
    const parsed = parseRegistryReference(text, name, 15 + colon + 1);
    if (parsed.digest !== undefined) fail(text, 15 + colon + 2 + name.indexOf("@"), "an image name in a docker archive cannot carry a digest");
    return { transport: "docker-archive", path, name };
  }
  if (text.startsWith("docker://")) return parseRegistryReference(text, text.slice(9), 9);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(text);
  if (scheme) fail(text, 1, `unknown transport "${scheme[1]}://"`, "use a registry reference, docker://…, oci:… or docker-archive:…");
  return parseRegistryReference(text);
}

/** The canonical text of a reference: full registry host, `library/` on Docker Hub. */
export function formatReference(reference: Reference): string {
  switch (reference.transport) {
    case "oci":
      return `oci:${reference.path}${reference.tag === undefined ? "" : `:${reference.tag}`}`;
    case "docker-archive":
      return `docker-archive:${reference.path}${reference.name === undefined ? "" : `:${reference.name}`}`;
    case "registry":
      return `${reference.registry}/${reference.repository}${reference.tag === undefined ? "" : `:${reference.tag}`}${reference.digest === undefined ? "" : `@${reference.digest}`}`;
  }
}
