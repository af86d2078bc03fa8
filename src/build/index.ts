// Building images: the plan (targets in dependency order from the catalog and a trigger)
// and the backends that turn it into images.

export { buildArgPrefix, changedFilesSince, planBuild, targetId } from "./plan.ts";
export type { BuildPlan, PlanTarget, PlanTrigger, TargetReason } from "./plan.ts";
export { bakeBuild, imageSize } from "./bake-build.ts";
export type { BakeBuildRequest, BakeBuildSummary, BuiltTarget, TargetStatus } from "./bake-build.ts";
export { buildxCommand, generateBake, runBake } from "./bake.ts";
export type { BakeCache, BakeOptions, BakeOutput, GeneratedBake } from "./bake.ts";
export { assemble } from "./assemble.ts";
export type { AssembleRequest, AssembleResult, BaseImage, BaseSelection, ConfigChanges, PlatformLayer } from "./assemble.ts";
export { resolveSourceDateEpoch } from "./epoch.ts";
