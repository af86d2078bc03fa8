// Serves a Kafka release-tarball fixture directory on loopback as the "RC tarball URL"
// for the main job (the same server the tests use), until it is stopped.
// Usage: node test/release/serve-fixture.ts <directory> <port>

import { serveFixture } from "../support/kafka-fixture.ts";

const [directory, port] = process.argv.slice(2);
if (directory === undefined || port === undefined || !/^\d+$/.test(port)) {
  process.stderr.write("usage: node test/release/serve-fixture.ts <directory> <port>\n");
  process.exit(2);
}
const served = await serveFixture(directory, Number(port));
process.stdout.write(`${served.url}\n`);
const stop = (): void => {
  void served.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
