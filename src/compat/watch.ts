// Hot reload of a mounted ConfigMap: an operator keeps answering with the last
// good matrix, swaps in a new one when the content changes, and reports a broken
// one without dropping the good one.

import { createHash } from "node:crypto";
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { readMatrixLocation } from "./configmap.ts";
import type { Matrix } from "./model.ts";

export interface WatchOptions {
  /** A new matrix is in use; `previous` was in use before. */
  onChange?(matrix: Matrix, previous: Matrix): void;
  /** The content changed but does not read; the previous matrix stays in use. */
  onError?(error: ImagewrightError): void;
  /**
   * Also re-read every this many milliseconds (0: never). fs.watch can miss
   * events on some volume types; the content hash makes a re-read that finds
   * nothing new free of side effects. Default 5000.
   */
  intervalMs?: number;
}

export interface MatrixWatch {
  /** The matrix in use: the last one that read without errors. */
  readonly matrix: Matrix;
  /** The error of the newest content, when it did not read; cleared by the next good content. */
  readonly lastError: ImagewrightError | undefined;
  /** Re-reads now; true when a new matrix came into use. */
  reload(): Promise<boolean>;
  close(): void;
}

/**
 * Watches a matrix file or a mounted ConfigMap directory. The kubelet updates a
 * mount by writing a new `..<timestamp>` directory and renaming the `..data`
 * symlink over the old one, so the directory (or, for a file, its parent) is
 * watched rather than the file, whose inode never changes on a symlink swap.
 */
export async function watchMatrix(location: string, options: WatchOptions = {}): Promise<MatrixWatch> {
  const first = await readMatrixLocation(location);
  const watcher = new MatrixWatcher(location, first.read(), hash(first.text), options);
  await watcher.start();
  return watcher;
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

class MatrixWatcher implements MatrixWatch {
  #matrix: Matrix;
  #lastError: ImagewrightError | undefined;
  #seen: string;
  #fsWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reading: Promise<boolean> | undefined;
  #again = false;
  #closed = false;
  readonly #location: string;
  readonly #options: WatchOptions;

  constructor(location: string, matrix: Matrix, seen: string, options: WatchOptions) {
    this.#location = location;
    this.#matrix = matrix;
    this.#seen = seen;
    this.#options = options;
  }

  get matrix(): Matrix {
    return this.#matrix;
  }

  get lastError(): ImagewrightError | undefined {
    return this.#lastError;
  }

  async start(): Promise<void> {
    const isDirectory = (await stat(this.#location)).isDirectory();
    const directory = isDirectory ? this.#location : dirname(this.#location);
    const name = basename(this.#location);
    this.#fsWatcher = watch(directory, { persistent: false }, (_event, file) => {
      // In a directory every entry matters (..data swaps); next to a file only the file and kubelet's own entries.
      if (isDirectory || file === null || file === name || file.startsWith("..")) this.#schedule();
    });
    this.#fsWatcher.on("error", (cause) => this.#report(new ImagewrightError("unavailable", `cannot watch ${directory}: ${String(cause)}`, { input: this.#location, cause })));
    const interval = this.#options.intervalMs ?? 5000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#schedule(), interval);
      this.#timer.unref();
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    // A swap is several events in a row; read once they settle.
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), 25);
    this.#debounce.unref();
  }

  reload(): Promise<boolean> {
    if (this.#reading !== undefined) {
      // One read at a time; a change during a read gets one more read after it.
      this.#again = true;
      return this.#reading;
    }
    this.#reading = this.#read().finally(() => {
      this.#reading = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#reading;
  }

  async #read(): Promise<boolean> {
    let text: string;
    let found;
    try {
      found = await readMatrixLocation(this.#location);
      text = found.text;
    } catch (error) {
      // Mid-swap the file may be briefly missing; that is not news unless it stays so (the next event or poll tells).
      if (!isImagewrightError(error)) {
        this.#report(new ImagewrightError("unavailable", `cannot read ${this.#location}: ${String(error)}`, { input: this.#location, cause: error }));
      } else if (error.kind !== "not-found") {
        this.#report(error);
      }
      return false;
    }
    const digest = hash(text);
    if (digest === this.#seen) return false;
    this.#seen = digest;
    try {
      const next = found.read();
      const previous = this.#matrix;
      this.#matrix = next;
      this.#lastError = undefined;
      this.#options.onChange?.(next, previous);
      return true;
    } catch (error) {
      if (!isImagewrightError(error)) throw error;
      this.#report(error);
      return false;
    }
  }

  #report(error: ImagewrightError): void {
    this.#lastError = error;
    this.#options.onError?.(error);
  }

  close(): void {
    this.#closed = true;
    this.#fsWatcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
  }
}
