// Platforms as users write them (`linux/amd64`, `linux/arm64/v8`) and as
// indexes record them, with the matching rules registries and engines use.

import { ImagewrightError } from "../errors/index.ts";
import type { Platform } from "./model.ts";

// Names engines accept for the same architecture; the right-hand side is what OCI indexes say.
const ARCHITECTURE_ALIASES: Readonly<Record<string, string>> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", armel: "arm" };
// The variant an architecture has when none is written: `linux/arm64` is `linux/arm64/v8`.
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: "v8", arm: "v7" };

const PART = /^[a-z0-9_.-]+$/;

/** Parses `os/arch[/variant]`; malformed text is invalid-input naming the column. */
export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  const input = `platform "${text}"`;
  if (parts.length < 2 || parts.length > 3) {
    throw new ImagewrightError("invalid-input", `a platform is "os/architecture[/variant]", e.g. linux/amd64 or linux/arm64/v8`, { input, place: "column 1" });
  }
  let column = 1;
  for (const part of parts) {
    if (!PART.test(part)) {
      throw new ImagewrightError("invalid-input", part === "" ? "empty part in platform" : `"${part}" is not a valid platform part (lower-case letters, digits, . _ -)`, { input, place: `column ${column}` });
    }
    column += part.length + 1;
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter((p) => p !== undefined && p !== "").join("/");
}

function normalize(platform: Platform): { os: string; architecture: string; variant: string } {
  const architecture = ARCHITECTURE_ALIASES[platform.architecture] ?? platform.architecture;
  return { os: platform.os, architecture, variant: platform.variant ?? DEFAULT_VARIANT[architecture] ?? "" };
}

/**
 * Whether `candidate` (from an index) satisfies `wanted` (from the user). A
 * wanted platform without a variant takes any variant of its architecture;
 * with one, only that variant (an unwritten arm64 variant counts as v8).
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalize(wanted);
  const c = normalize(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  return wanted.variant === undefined || w.variant === c.variant;
}

/** The platform of the machine imagewright runs on, as OCI names it. */
export function hostPlatform(): Platform {
  const architecture = ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: process.platform === "win32" ? "windows" : process.platform, architecture };
}
