// A mounted ConfigMap laid out the way the kubelet writes it: each generation in
// its own `..<timestamp>` directory, `..data` pointing at the current one, and
// every key a symlink through `..data`. An update renames a fresh `..data_tmp`
// symlink over `..data`, which is atomic.

import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MountedConfigMap {
  dir: string;
  /** Writes a new generation and swaps `..data` to it, as the kubelet does on a ConfigMap update. */
  update(data: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

let generation = 0;

export async function mountConfigMap(data: Record<string, string>): Promise<MountedConfigMap> {
  const dir = await mkdtemp(join(tmpdir(), "imagewright-compat-mount-"));
  const write = async (values: Record<string, string>): Promise<void> => {
    const name = `..2026_11_21_05_00_00.${process.pid}_${++generation}`;
    await mkdir(join(dir, name));
    for (const [key, value] of Object.entries(values)) await writeFile(join(dir, name, key), value);
    let old: string | undefined;
    try {
      old = await readlink(join(dir, "..data"));
    } catch {
      old = undefined;
    }
    await symlink(name, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    for (const key of Object.keys(values)) {
      await symlink(join("..data", key), join(dir, key)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
      });
    }
    if (old !== undefined) await rm(join(dir, old), { recursive: true, force: true });
  };
  await write(data);
  return { dir, update: write, remove: () => rm(dir, { recursive: true, force: true }) };
}
