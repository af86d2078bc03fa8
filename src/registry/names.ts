// The distribution spec's grammar for what a client sends in a URL: registry
// hosts, repository names, tags and digests. Checked before any request so a bad
// name is reported as the user's input, not as a registry's 404.

import { ImagewrightError } from "../errors/index.ts";
import { isDigest, parseDigest } from "./digest.ts";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** A registry host as it appears in references: `registry.example.com`, `127.0.0.1:5000`, `[::1]:5000`. */
export function checkHost(host: string): string {
  const port = /:([0-9]+)$/.exec(host)?.[1];
  if (!HOST.test(host) || (port !== undefined && Number(port) > 65535)) {
    throw new ImagewrightError("invalid-input", `registry host "${host}" is not a host[:port]`, {
      input: `registry host "${host}"`,
      hint: "write it as registry.example.com, 127.0.0.1:5000 or [::1]:5000, without scheme or path",
    });
  }
  return host;
}

/** A repository name: lowercase path components separated by `/`, at most 255 characters. */
export function checkRepositoryName(name: string): string {
  const input = `repository name "${name}"`;
  if (name.length === 0 || name.length > 255) {
    throw new ImagewrightError("invalid-input", `${input} must be 1 to 255 characters long`, { input });
  }
  let offset = 0;
  for (const component of name.split("/")) {
    if (!COMPONENT.test(component)) {
      const bad = firstBadCharacter(component);
      throw new ImagewrightError(
        "invalid-input",
        `${input} has an invalid path component "${component}": lowercase letters, digits and single separators (. _ __ -) only`,
        { input, place: `character ${offset + bad + 1}` },
      );
    }
    offset += component.length + 1;
  }
  return name;
}

export function checkTag(tag: string): string {
  if (!TAG.test(tag)) {
    const bad = tag.length === 0 ? 0 : tag.length > 128 ? 128 : Math.max(0, [...tag].findIndex((c, i) => !(i === 0 ? /[A-Za-z0-9_]/ : /[A-Za-z0-9_.-]/).test(c)));
    throw new ImagewrightError("invalid-input", `tag "${tag}" is not a valid tag: 1 to 128 of [A-Za-z0-9_.-], not starting with . or -`, {
      input: `tag "${tag}"`,
      place: `character ${bad + 1}`,
    });
  }
  return tag;
}

/** The part after the repository in a URL: a tag or a digest. */
export type ManifestReference = { kind: "tag"; tag: string } | { kind: "digest"; digest: string };

export function parseManifestReference(reference: string): ManifestReference {
  if (reference.includes(":")) {
    parseDigest(reference, `digest "${reference}"`);
    return { kind: "digest", digest: reference };
  }
  return { kind: "tag", tag: checkTag(reference) };
}

export { isDigest };

function firstBadCharacter(component: string): number {
  if (component.length === 0) return 0;
  for (let i = 0; i < component.length; i++) {
    if (!/[a-z0-9._-]/.test(component[i] ?? "")) return i;
  }
  // Every character is allowed but the separators are misplaced: point at the first separator run that breaks the rule.
  const misplaced = /^[._-]|[._-]$|[.][._-]|_[.-]|___|-[._]/.exec(component);
  return misplaced === null ? 0 : misplaced.index;
}
