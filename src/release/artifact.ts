// The product release an RC is built from: fetched once here and its SHA-512 checked
// against the published checksum file before anything is built, so the report and
// the record name exactly what the vote is about.

import { createHash } from "node:crypto";
import { ImagewrightError } from "../errors/index.ts";

export interface VerifiedArtifact {
  url: string;
  checksumUrl: string;
  /** Lower-case hex SHA-512 of the tarball, as computed here and published. */
  sha512: string;
  size: number;
}

/** An http(s) URL, or invalid input naming the flag and the character where it breaks. */
export function parseArtifactUrl(text: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `${flag} "${text}" is not a URL`, { input: `${flag} ${text}`, place: "character 1", hint: "e.g. https://dist.apache.org/repos/dist/dev/kafka/4.1.0-rc1/kafka_2.13-4.1.0.tgz", cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImagewrightError("invalid-input", `${flag} "${text}" is not an http(s) URL`, { input: `${flag} ${text}`, place: `characters 1-${url.protocol.length}` });
  }
  return url;
}

/**
 * The SHA-512 a checksum file publishes, in either of Apache's formats: `sha512sum`'s
 * `<hex>  <file>` or `gpg --print-md SHA512`'s `<file>: <HEX IN GROUPS>` over several lines.
 */
export function publishedSha512(text: string, input: string): string {
  const colon = text.indexOf(":");
  const hex = (colon >= 0 ? text.slice(colon + 1).replace(/\s+/g, "") : (text.trim().split(/\s+/)[0] ?? "")).toLowerCase();
  if (!/^[0-9a-f]{128}$/.test(hex)) {
    throw new ImagewrightError("invalid-input", `${input} holds no SHA-512 (128 hex digits)`, {
      input,
      place: colon >= 0 ? `after the ":" at byte ${colon}` : "the first word",
      hint: "a .sha512 file as Apache publishes it: `sha512sum` or `gpg --print-md SHA512` output",
    });
  }
  return hex;
}

async function get(url: URL, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (cause) {
    throw new ImagewrightError("unavailable", `${what} ${url.href} cannot be fetched: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`, { input: url.href, cause });
  }
  if (response.status === 404) throw new ImagewrightError("not-found", `${what} ${url.href} does not exist (HTTP 404)`, { input: url.href });
  if (!response.ok || response.body === null) {
    throw new ImagewrightError("unavailable", `${what} ${url.href} answered HTTP ${response.status}`, { input: url.href });
  }
  return response;
}

/** Downloads the tarball (streamed, hashed, not kept) and its checksum file, and compares them. */
export async function verifyArtifact(artifactUrl: string, checksumUrl: string | undefined): Promise<VerifiedArtifact> {
  const url = parseArtifactUrl(artifactUrl, "--artifact-url");
  const sums = parseArtifactUrl(checksumUrl ?? `${artifactUrl}.sha512`, "--checksum-url");
  const published = publishedSha512(await (await get(sums, "checksum file")).text(), `checksum file ${sums.href}`);
  const hash = createHash("sha512");
  let size = 0;
  const response = await get(url, "artifact");
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  const actual = hash.digest("hex");
  if (actual !== published) {
    throw new ImagewrightError("invalid-input", `the SHA-512 of ${url.href} is ${actual}, but ${sums.href} publishes ${published}`, {
      input: url.href,
      place: `byte ${size} (end of download)`,
      hint: "the tarball or its checksum file is not the one voted on: check the RC URL",
    });
  }
  return { url: url.href, checksumUrl: sums.href, sha512: actual, size };
}
