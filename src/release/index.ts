// Releasing: release candidates with their evaluation report and release record,
// promotion by digest to immutable release tags, and image patch-release bumps.

export { bumpImage, type BumpResult } from "./bump.ts";
export { promote, type PromoteRequest, type PromoteResult, type TagAction, type TagPlan } from "./promote.ts";
export {
  attachRecord,
  candidateRecordOf,
  parseRecord,
  readRecords,
  recordArtifact,
  releaseProblems,
  RECORD_ARTIFACT_TYPE,
  type CandidateRecord,
  type ImageFacts,
  type PromotionRecord,
  type ReleaseRecord,
  type ScanFacts,
  type StoredRecord,
  type TestFacts,
} from "./record.ts";
export { candidateTag, productImages, readCandidateTag, releaseTags, requireCandidateTag, type CandidateReading } from "./tags.ts";
export { parseArtifactUrl, publishedSha512, verifyArtifact, type VerifiedArtifact } from "./artifact.ts";
export { cutCandidate, type CandidateImage, type CandidateRequest, type EvaluationReport } from "./candidate.ts";
export { renderHtml, renderMarkdown, reportJson, writeReport } from "./report.ts";
