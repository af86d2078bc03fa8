// Sanity suites run against real containers: the public surface of src/verify.

import { ImagewrightError } from "../errors/index.ts";
import { kafkaSuite } from "./kafka.ts";
import { KAFKA_SUITE_DEFAULTS, SUITES, isSuiteName, type KafkaSuiteOptions } from "./options.ts";
import type { SuiteReport } from "./report.ts";
import { runSuite, type SuiteRunOptions } from "./suite.ts";

export { renderHtml, renderJUnit, summarize, type StepResult, type StepStatus, type SuiteReport } from "./report.ts";
export { StepFailure, runSuite, resolveImage, type SuiteDefinition, type SuiteStep, type SuiteRunOptions } from "./suite.ts";
export { kafkaSuite } from "./kafka.ts";
export { KAFKA_SUITE_DEFAULTS, SUITES, isSuiteName, type KafkaSuiteOptions, type SuiteName } from "./options.ts";

/** Runs a named suite with its defaults overridden by `options`. */
export function runNamedSuite(name: string, image: string, options: Partial<KafkaSuiteOptions>, hooks: SuiteRunOptions = {}): Promise<SuiteReport> {
  if (!isSuiteName(name)) {
    throw new ImagewrightError("invalid-input", `unknown test suite "${name}"`, { input: `--suite ${name}`, hint: `known suites: ${SUITES.join(", ")}` });
  }
  return runSuite(kafkaSuite, image, { ...KAFKA_SUITE_DEFAULTS, ...options }, hooks);
}
