#!/usr/bin/env node
// Entry point. Runs on Node's own TypeScript support (Node >= 22.18); no build step.
import { main } from "../src/cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
