// `imagewright release rc`: cut a release candidate (build, test, scan, push, report, record).

import type { Command } from "commander";

export function registerCandidate(_release: Command): void {
  // filled in below
}
