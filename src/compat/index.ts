// Compatibility between operators and product images (ADR018): the matrix, its
// ConfigMap, and the resolver an operator imports to choose a digest-pinned image.

export { COMPAT_STATES, formatPosition } from "./model.ts";
export type { Combination, CompatState, Matrix, MatrixSettings, ProductSettings, Rule, SourcePosition, Verdict } from "./model.ts";
export { MATRIX_API_VERSION, MATRIX_KIND, parseMatrixSource } from "./source.ts";
export { covers, describeOverlap, describeRule, evaluate, findOverlaps, refuseContradictions } from "./rules.ts";
export type { Overlap } from "./rules.ts";
export { configMapFor, DEFAULT_CONFIGMAP_NAME, loadMatrix, MATRIX_DATA_KEY, readMatrixLocation, readMatrixText } from "./configmap.ts";
export type { ConfigMapOptions, MatrixText } from "./configmap.ts";
export { matrixTable, renderHtml, renderMarkdown } from "./render.ts";
export type { MatrixCell, MatrixColumn, MatrixRow, MatrixTable } from "./render.ts";
export {
  candidatesAmong,
  DEFAULT_TAG_SCHEME,
  knowsProduct,
  repositoryPathOf,
  requireImage,
  resolveImage,
  schemeOf,
  selectCandidate,
} from "./resolve.ts";
export type { Candidate, ImageRequest, Refusal, Resolution, ResolveOptions, RuleSummary, Selection } from "./resolve.ts";
export { watchMatrix } from "./watch.ts";
export type { MatrixWatch, WatchOptions } from "./watch.ts";
export { coverRelease } from "./release.ts";
export type { CoverReport, ImageRelease, RuleCoverage } from "./release.ts";
export { auditPods, loadPods, readPods } from "./audit.ts";
export type { AuditEntry, AuditReport, AuditStatus, Pod, StoreFor } from "./audit.ts";
