// Turning a registry's refusal (status + `{"errors":[{code,message,detail}]}`)
// into an ImagewrightError of the right kind that names what was asked for.

import { ImagewrightError, type ErrorKind } from "../errors/index.ts";

export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

const KIND_OF_CODE: Readonly<Record<string, ErrorKind>> = {
  BLOB_UNKNOWN: "not-found",
  MANIFEST_UNKNOWN: "not-found",
  NAME_UNKNOWN: "not-found",
  BLOB_UPLOAD_UNKNOWN: "not-found",
  MANIFEST_INVALID: "invalid-input",
  MANIFEST_BLOB_UNKNOWN: "invalid-input",
  MANIFEST_UNVERIFIED: "invalid-input",
  DIGEST_INVALID: "invalid-input",
  NAME_INVALID: "invalid-input",
  TAG_INVALID: "invalid-input",
  SIZE_INVALID: "invalid-input",
  BLOB_UPLOAD_INVALID: "invalid-input",
  RANGE_INVALID: "invalid-input",
  PAGINATION_NUMBER_INVALID: "invalid-input",
  UNAUTHORIZED: "invalid-input",
  DENIED: "invalid-input",
  UNSUPPORTED: "unavailable",
  TOOMANYREQUESTS: "unavailable",
  UNAVAILABLE: "unavailable",
};

/** Parses an error body; tolerant of registries that answer HTML or nothing. */
export function parseRegistryErrors(text: string): RegistryErrorEntry[] {
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors.filter(
      (e): e is RegistryErrorEntry => typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string",
    );
  } catch {
    return [];
  }
}

export function kindOfStatus(status: number, codes: readonly string[]): ErrorKind {
  for (const code of codes) {
    const kind = KIND_OF_CODE[code];
    if (kind !== undefined) return kind;
  }
  if (status === 404) return "not-found";
  if (status === 401 || status === 403) return "invalid-input";
  if (status === 409) return "conflict";
  if (status === 405) return "unavailable";
  if (status >= 500 || status === 429) return "unavailable";
  return "invalid-input";
}

/**
 * The error for a registry answer: `what` names the request in the user's
 * words (`manifest 127.0.0.1:5000/org/kafka:3.7.0`), `redact` removes secrets
 * from anything the server echoed.
 */
export function registryError(
  what: string,
  status: number,
  body: string,
  redact: (text: string) => string,
  hint?: string,
): ImagewrightError {
  const entries = parseRegistryErrors(body);
  const kind = kindOfStatus(status, entries.map((e) => e.code));
  const said =
    entries.length > 0
      ? entries.map((e) => `${e.code}${e.message ? `: ${e.message}` : ""}${describeDetail(e.detail)}`).join("; ")
      : body.trim().split("\n")[0]?.slice(0, 200) || "no error body";
  const prefix = kind === "not-found" ? `${what} not found` : `${what} refused`;
  return new ImagewrightError(kind, redact(`${prefix} (HTTP ${status}): ${said}`), {
    input: what,
    ...(hint === undefined ? {} : { hint }),
  });
}

function describeDetail(detail: unknown): string {
  if (detail === undefined || detail === null) return "";
  if (typeof detail === "string") return ` (${detail.slice(0, 200)})`;
  if (typeof detail === "object") {
    const text = JSON.stringify(detail);
    return text === "{}" || text === "[]" ? "" : ` (${text.slice(0, 300)})`;
  }
  return "";
}
