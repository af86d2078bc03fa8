// What the compat tests use: the public surface, as an operator imports it, plus an error check.

import { ImagewrightError } from "../../src/errors/index.ts";
import type { ErrorKind } from "../../src/errors/index.ts";

export * from "../../src/compat/index.ts";
export { ImagewrightError };

export function isMatrixError(error: unknown, kind: ErrorKind): error is ImagewrightError {
  if (!(error instanceof ImagewrightError)) return false;
  if (error.kind !== kind) throw new Error(`expected a ${kind} error, got ${error.kind}: ${error.message} at ${error.place ?? "?"}`, { cause: error });
  return true;
}
