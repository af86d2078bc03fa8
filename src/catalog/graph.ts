// The local-image dependency graph of a catalog: build order and cycle detection,
// shared by catalog validation (no cycles allowed) and the build plan (order).

import { ImagewrightError } from "../errors/index.ts";
import { displayPath } from "./source.ts";
import { versionLabel } from "./model.ts";
import type { Catalog, CatalogVersion, Dependency } from "./model.ts";

export function dependencyOf(catalog: Catalog, dependency: Dependency): CatalogVersion {
  const found = catalog.byName.get(dependency.image)?.byProductVersion.get(dependency.productVersion);
  // The loader refuses unknown dependencies, so this only fails for a hand-made Catalog.
  if (found === undefined) {
    throw new ImagewrightError("not-found", `unknown local image ${versionLabel(dependency)}`, {
      input: `catalog ${displayPath(catalog.file)}`,
    });
  }
  return found;
}

/**
 * `roots` and every version they depend on (transitively), each after its
 * dependencies. The order is deterministic: by depth in the graph (what can be built
 * in parallel shares a depth), then image name, then product version.
 * A cycle is a conflict error that shows it: `kafka 3.9.1 → java-base 21 → kafka 3.9.1`.
 */
export function dependencyOrder(catalog: Catalog, roots: Iterable<CatalogVersion>): { version: CatalogVersion; depth: number }[] {
  const depth = new Map<CatalogVersion, number>();
  const onPath = new Set<CatalogVersion>();
  // Iterative depth-first search: a 10,000-long dependency chain must not overflow the stack.
  for (const root of roots) {
    if (depth.has(root)) continue;
    const path: { version: CatalogVersion; next: number; deepest: number }[] = [{ version: root, next: 0, deepest: -1 }];
    onPath.add(root);
    while (path.length > 0) {
      const frame = path[path.length - 1]!;
      const dependencies = frame.version.dependencies;
      if (frame.next < dependencies.length) {
        const dependency = dependencyOf(catalog, dependencies[frame.next++]!);
        const known = depth.get(dependency);
        if (known !== undefined) {
          frame.deepest = Math.max(frame.deepest, known);
        } else if (onPath.has(dependency)) {
          throw cycleError(catalog, [...path.map((f) => f.version), dependency]);
        } else {
          onPath.add(dependency);
          path.push({ version: dependency, next: 0, deepest: -1 });
        }
        continue;
      }
      path.pop();
      onPath.delete(frame.version);
      const own = frame.deepest + 1;
      depth.set(frame.version, own);
      const parent = path[path.length - 1];
      if (parent !== undefined) parent.deepest = Math.max(parent.deepest, own);
    }
  }
  const ordinal = catalogOrdinals(catalog);
  return [...depth]
    .map(([version, d]) => ({ version, depth: d }))
    .sort((a, b) => a.depth - b.depth || (ordinal.get(a.version) ?? 0) - (ordinal.get(b.version) ?? 0));
}

/** Everything that depends on each version (directly), for "rebuild what uses this". */
export function dependents(catalog: Catalog): Map<CatalogVersion, CatalogVersion[]> {
  const users = new Map<CatalogVersion, CatalogVersion[]>();
  for (const image of catalog.images) {
    for (const version of image.versions) {
      for (const dependency of version.dependencies) {
        const used = dependencyOf(catalog, dependency);
        const list = users.get(used);
        if (list === undefined) users.set(used, [version]);
        else list.push(version);
      }
    }
  }
  return users;
}

/** Position in the catalog's own order (images by name, versions oldest first). */
function catalogOrdinals(catalog: Catalog): Map<CatalogVersion, number> {
  const ordinal = new Map<CatalogVersion, number>();
  for (const image of catalog.images) for (const version of image.versions) ordinal.set(version, ordinal.size);
  return ordinal;
}

function cycleError(catalog: Catalog, path: readonly CatalogVersion[]): ImagewrightError {
  const last = path[path.length - 1]!;
  const start = path.indexOf(last);
  const cycle = path.slice(start);
  const shown = cycle.map(versionLabel).join(" → ");
  return new ImagewrightError("conflict", `dependency cycle: ${shown}`, {
    input: `catalog ${displayPath(catalog.file)}`,
    place: declaredAt(cycle[0]!, cycle[1]!),
    hint: "an image cannot be built from itself; remove one of the dependencies in this cycle",
  });
}

function declaredAt(from: CatalogVersion, to: CatalogVersion): string {
  const dependency = from.dependencies.find((d) => d.image === to.image && d.productVersion === to.productVersion);
  return (dependency?.place ?? from.place)();
}
