// One error type for everything imagewright refuses or fails at. Each error
// names the input and the place, and maps to a documented exit code (docs/cli.md).

export type ErrorKind =
  | "usage" // the command line itself is wrong
  | "invalid-input" // a malformed tag, catalog, manifest, reference, URL, tarball, ConfigMap
  | "not-found" // the thing named does not exist (image, tag, version, file)
  | "conflict" // refused to change something that must not change (released tag, cycle)
  | "unavailable" // a service or tool is missing or unreachable (registry, scanner DB)
  | "failed"; // a check ran and did not pass (test suite, scan gate, compatibility)

export const EXIT_CODES: Readonly<Record<ErrorKind | "ok" | "internal", number>> = {
  ok: 0,
  failed: 1,
  usage: 2,
  "invalid-input": 3,
  "not-found": 4,
  conflict: 5,
  unavailable: 6,
  internal: 70,
};

export interface ErrorContext {
  /** What was wrong, as the user would name it: `tag "3.7.0_x"`, `catalog file images/kafka.yaml`. */
  input?: string;
  /** Where in that input: `line 3, column 5`, `$.versions[2].dockerfile`, `byte 1024`. */
  place?: string;
  /** What to do about it, when we know. */
  hint?: string;
  cause?: unknown;
}

export class ImagewrightError extends Error {
  readonly kind: ErrorKind;
  readonly input: string | undefined;
  readonly place: string | undefined;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = "ImagewrightError";
    this.kind = kind;
    this.input = context.input;
    this.place = context.place;
    this.hint = context.hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  /** Wraps this error with the step that was under way, keeping kind, input and place. */
  during(step: string): ImagewrightError {
    return new ImagewrightError(this.kind, `${step}: ${this.message}`, {
      input: this.input,
      place: this.place,
      hint: this.hint,
      cause: this,
    });
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      message: this.message,
      ...(this.input === undefined ? {} : { input: this.input }),
      ...(this.place === undefined ? {} : { place: this.place }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      exitCode: this.exitCode,
    };
  }
}

export function isImagewrightError(value: unknown): value is ImagewrightError {
  return value instanceof ImagewrightError;
}
