import type { Command } from "commander";

export function register(_program: Command): void {
  // placeholder: filled in by the owner of this concern
}
