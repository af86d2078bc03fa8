// The catalog: the declarative description of every image, its product versions and
// how to build them, loaded from YAML with errors that point at file, line and column.

export { CATALOG_FILE, CatalogInvalidError, catalogLocation, IMAGE_FILE, loadCatalog } from "./load.ts";
export { dependencyOf, dependencyOrder, dependents } from "./graph.ts";
export { repositoryOf, versionLabel } from "./model.ts";
export type { Artifact, Catalog, CatalogImage, CatalogVersion, Dependency, ImageKind, Place, Support, SupportStatus } from "./model.ts";
export { jsonSchema, SCHEMA_FILES, type SchemaName } from "./schema.ts";
export type { CatalogProblem } from "./source.ts";
