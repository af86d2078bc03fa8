#!/usr/bin/env node
// Entry point. Runs on Node's own TypeScript support (Node >= 22.18); no build step.
// The compile cache keeps stripped and compiled modules between runs, which is most
// of a short command's start-up time.
import { enableCompileCache } from "node:module";

enableCompileCache();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
