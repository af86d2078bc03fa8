// The Kafka release-tarball fixture: stack/kafka-fixture.sh assembles (and caches)
// kafka_2.13-<version>.tgz from Maven Central jars; serveFixture serves it on loopback
// as the "RC tarball URL" a release manager would be given.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const SCRIPT = fileURLToPath(new URL("../../stack/kafka-fixture.sh", import.meta.url));

/** The releases the fixture is proven for: the last 3.x line and a 4.x line. */
export const KAFKA_FIXTURE_VERSIONS = ["3.9.1", "4.1.0"] as const;

export interface KafkaFixture {
  version: string;
  /** `kafka_2.13-<version>`: the tarball's top directory. */
  name: string;
  /** The directory holding the tarball and its checksums (what serveFixture serves). */
  directory: string;
  tarball: string;
  /** `gpg --print-md SHA512` layout, as Apache Kafka publishes it. */
  sha512: string;
  /** coreutils `sha512sum` layout. */
  sha512sum: string;
}

/** Assembles the fixture for a version, or finds it in the cache (milliseconds when cached). */
export async function kafkaFixture(version: string): Promise<KafkaFixture> {
  const { stdout } = await promisify(execFile)("bash", [SCRIPT, version], {
    maxBuffer: 1024 * 1024,
    timeout: 15 * 60_000,
  });
  const tarball = stdout.trim().split("\n").at(-1) ?? "";
  if (!tarball.endsWith(".tgz")) throw new Error(`stack/kafka-fixture.sh ${version} printed no tarball path: ${stdout}`);
  return {
    version,
    name: basename(tarball, ".tgz"),
    directory: dirname(tarball),
    tarball,
    sha512: `${tarball}.sha512`,
    sha512sum: `${tarball}.sha512sum`,
  };
}

export interface ServedFixture {
  /** Base URL ending in `/`; a file of the directory is at `${url}${fileName}`. */
  url: string;
  urlOf(fileName: string): string;
  close(): Promise<void>;
}

/** Serves the files of one directory (no subdirectories) over HTTP on 127.0.0.1:port. */
export async function serveFixture(directory: string, port: number): Promise<ServedFixture> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://fixture").pathname;
    const fileName = decodeURIComponent(path.slice(1));
    // Only plain names: nothing outside the served directory can be asked for.
    if ((request.method !== "GET" && request.method !== "HEAD") || fileName === "" || fileName !== basename(fileName) || fileName.startsWith(".")) {
      response.writeHead(404).end();
      return;
    }
    const file = join(directory, fileName);
    stat(file).then(
      (info) => {
        if (!info.isFile()) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/octet-stream", "content-length": info.size });
        if (request.method === "HEAD") {
          response.end();
          return;
        }
        createReadStream(file)
          .on("error", () => response.destroy())
          .pipe(response);
      },
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    urlOf: (fileName) => `${url}${encodeURIComponent(fileName)}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
