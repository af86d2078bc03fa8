// The copy library without the CLI around it: `node bench/registry/copy.ts <src> <dst>`.
// The benchmark runs it beside the CLI to show how much of a copy is CLI start-up
// (loading every command module) and how much is the copy itself.
// Node's compile cache, as bin/imagewright.ts enables it, so both pay the same start-up.
import { enableCompileCache } from "node:module";

enableCompileCache();
const { copy, openLocation } = await import("../../src/oci/index.ts");
const { RegistryClient } = await import("../../src/registry/index.ts");

const [sourceText, destinationText] = process.argv.slice(2);
if (sourceText === undefined || destinationText === undefined) throw new Error("usage: node bench/registry/copy.ts <source> <destination>");
const client = new RegistryClient();
try {
  const source = await openLocation(sourceText, { client });
  const destination = await openLocation(destinationText, { client, forWriting: true });
  await copy(source.store, source.reference, destination.store, destination.reference);
} finally {
  await client.close();
}
