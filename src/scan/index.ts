// Vulnerability scanning with real scanners (trivy, grype, osv-scanner): one findings
// model, an ignore file with expiry, reports (table, JSON, SARIF, markdown, JUnit),
// kept scans for new/fixed/remaining, and a gate that fails when it cannot know.

export { SEVERITIES, SCANNER_NAMES, normalizeSeverity, severityRank } from "./model.ts";
export type { Finding, FindingPackage, Gate, ImageScan, CatalogCoordinates, PatchRelease, ScanReport, ScannerName, ScannerState, ScannerStatus, Severity } from "./model.ts";
export { mergeFindings, purlKey } from "./merge.ts";
export { parseTrivyReport } from "./trivy.ts";
export { parseGrypeReport } from "./grype.ts";
export { parseOsvReport } from "./osv.ts";
export { applyIgnores, loadIgnoreFile, parseIgnoreFile, type IgnoreEntry } from "./ignore.ts";
export { REPORT_FORMATS, renderJunit, renderMarkdown, renderSarif, renderTable, type ReportFormat } from "./report.ts";
export { defaultStateDirectory, difference, latestScan, type ScanDifference } from "./history.ts";
export { databasePath, type ScannerSetup } from "./scanners.ts";
export { decideGate, isAtOrAbove, scanImages, supportedImages, type ScanOptions, type ScanRequest } from "./scan.ts";
