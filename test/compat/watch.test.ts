import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configMapFor, parseMatrixSource, watchMatrix } from "./imports.ts";
import type { Matrix, MatrixWatch } from "./imports.ts";
import type { ImagewrightError } from "../../src/errors/index.ts";
import { mountConfigMap } from "./kubelet.ts";
import { KAFKA_MATRIX } from "./matrices.ts";

const UPDATED = KAFKA_MATRIX.replace("state: unsupported", "state: compatible");
const BROKEN = KAFKA_MATRIX.replace("state: unsupported", "state: perhaps");

/** Collects what the watcher reports, and waits for the next report with a deadline. */
function recorder(): { changes: Matrix[]; errors: ImagewrightError[]; next(kind: "change" | "error", timeoutMs?: number): Promise<void>; options: { onChange(m: Matrix): void; onError(e: ImagewrightError): void } } {
  const changes: Matrix[] = [];
  const errors: ImagewrightError[] = [];
  let waiting: { kind: string; resolve: () => void } | undefined;
  const notify = (kind: string): void => {
    if (waiting?.kind === kind) {
      waiting.resolve();
      waiting = undefined;
    }
  };
  return {
    changes,
    errors,
    options: {
      onChange: (m) => {
        changes.push(m);
        notify("change");
      },
      onError: (e) => {
        errors.push(e);
        notify("error");
      },
    },
    next: (kind, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${kind} reported within ${timeoutMs} ms`)), timeoutMs);
        waiting = {
          kind,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      }),
  };
}

describe("hot reload of a mounted ConfigMap", () => {
  it("swaps in a new matrix on a kubelet-style ..data swap, keeps the last good one through a broken update", async () => {
    const mount = await mountConfigMap({ "matrix.yaml": KAFKA_MATRIX });
    const seen = recorder();
    // No polling: the change must arrive through fs.watch on the directory.
    let watch: MatrixWatch | undefined;
    try {
      watch = await watchMatrix(mount.dir, { ...seen.options, intervalMs: 0 });
      assert.equal(watch.matrix.rules[4]?.state, "unsupported");

      let next = seen.next("change");
      await mount.update({ "matrix.yaml": UPDATED });
      await next;
      assert.equal(watch.matrix.rules[4]?.state, "compatible");
      assert.equal(seen.changes.length, 1);

      next = seen.next("error");
      await mount.update({ "matrix.yaml": BROKEN });
      await next;
      assert.equal(watch.matrix.rules[4]?.state, "compatible", "the last good matrix stays in use");
      assert.equal(watch.lastError?.kind, "invalid-input");
      assert.match(watch.lastError?.place ?? "", /matrix\.yaml:35:12$/);

      next = seen.next("change");
      await mount.update({ "matrix.yaml": KAFKA_MATRIX });
      await next;
      assert.equal(watch.matrix.rules[4]?.state, "unsupported");
      assert.equal(watch.lastError, undefined);
      assert.equal(seen.changes.length, 2);
      assert.equal(seen.errors.length, 1);
    } finally {
      watch?.close();
      await mount.remove();
    }
  });

  it("ignores a swap that brings the same content (the content hash decides)", async () => {
    const mount = await mountConfigMap({ "matrix.yaml": KAFKA_MATRIX });
    const seen = recorder();
    let watch: MatrixWatch | undefined;
    try {
      watch = await watchMatrix(mount.dir, { ...seen.options, intervalMs: 0 });
      const before = watch.matrix;
      await mount.update({ "matrix.yaml": KAFKA_MATRIX });
      assert.equal(await watch.reload(), false);
      assert.equal(watch.matrix, before);
      assert.deepEqual([seen.changes.length, seen.errors.length], [0, 0]);
    } finally {
      watch?.close();
      await mount.remove();
    }
  });

  it("follows a ConfigMap file replaced by rename, and picks up changes by polling too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imagewright-compat-watch-"));
    const file = join(dir, "configmap.yaml");
    const configMap = (text: string): string => configMapFor(parseMatrixSource(text, { name: "m.yaml" }));
    await writeFile(file, configMap(KAFKA_MATRIX));
    const seen = recorder();
    let watch: MatrixWatch | undefined;
    try {
      watch = await watchMatrix(file, { ...seen.options, intervalMs: 100 });
      let next = seen.next("change");
      // Editors and `kubectl get -o yaml > file` style tools replace the file; a rename is what the directory sees.
      await writeFile(join(dir, "configmap.yaml.tmp"), configMap(UPDATED));
      await rename(join(dir, "configmap.yaml.tmp"), file);
      await next;
      assert.equal(watch.matrix.rules[4]?.state, "compatible");

      next = seen.next("change");
      await writeFile(file, configMap(KAFKA_MATRIX));
      await next;
      assert.equal(watch.matrix.rules[4]?.state, "unsupported");
    } finally {
      watch?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start on a broken matrix", async () => {
    const mount = await mountConfigMap({ "matrix.yaml": BROKEN });
    try {
      await assert.rejects(watchMatrix(mount.dir), (error: ImagewrightError) => error.kind === "invalid-input");
    } finally {
      await mount.remove();
    }
  });
});
