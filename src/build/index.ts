// Building images: the plan (targets in dependency order from the catalog and a trigger)
// and the backends that turn it into images.

export { buildArgPrefix, changedFilesSince, planBuild, targetId } from "./plan.ts";
export type { BuildPlan, PlanTarget, PlanTrigger, TargetReason } from "./plan.ts";
