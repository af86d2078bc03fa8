// Confines paths named in the catalog to the image's folder: a catalog must not make a
// build read files from elsewhere, neither by `..`, by an absolute path nor by a symlink.

import { realpathSync, statSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** Resolves real paths once per load: 10,000 versions mostly share a few Dockerfiles. */
export class FolderConfinement {
  private readonly realpaths = new Map<string, string | undefined>();
  private readonly kinds = new Map<string, "file" | "directory" | "other">();
  private readonly checks = new Map<string, PathCheck>();

  real(path: string): string | undefined {
    if (this.realpaths.has(path)) return this.realpaths.get(path);
    let real: string | undefined;
    try {
      real = realpathSync(path);
    } catch {
      real = undefined;
    }
    this.realpaths.set(path, real);
    return real;
  }

  /**
   * `relativePath` resolved inside `folder`, or why not. `expect` is what it must be
   * (a Dockerfile is a file, a context a directory).
   */
  resolve(folder: string, relativePath: string, expect: "file" | "directory"): PathCheck {
    const key = `${folder}\u0000${relativePath}\u0000${expect}`;
    let check = this.checks.get(key);
    if (check === undefined) {
      check = this.check(folder, relativePath, expect);
      this.checks.set(key, check);
    }
    return check;
  }

  private check(folder: string, relativePath: string, expect: "file" | "directory"): PathCheck {
    if (isAbsolute(relativePath) || /^[A-Za-z]:[\\/]/.test(relativePath)) {
      return { ok: false, reason: `must be relative to the image's folder, not absolute (${relativePath})` };
    }
    if (relativePath.split(/[\\/]/).includes("..")) {
      return { ok: false, reason: `must stay inside the image's folder; ".." is not allowed (${relativePath})` };
    }
    const path = join(folder, relativePath);
    const folderReal = this.real(folder);
    const real = this.real(path);
    if (folderReal === undefined || real === undefined) {
      return { ok: false, reason: `"${relativePath}" does not exist in the image's folder` };
    }
    if (real !== folderReal && !real.startsWith(folderReal + sep)) {
      return { ok: false, reason: `"${relativePath}" is a symlink that leads outside the image's folder (to ${real})` };
    }
    const kind = this.kind(real);
    if (kind !== expect) return { ok: false, reason: `"${relativePath}" is not a ${expect}` };
    return { ok: true, path };
  }

  private kind(real: string): "file" | "directory" | "other" {
    let kind = this.kinds.get(real);
    if (kind === undefined) {
      const stats = statSync(real);
      kind = stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other";
      this.kinds.set(real, kind);
    }
    return kind;
  }
}
