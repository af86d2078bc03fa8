// An assembled image really runs: files on the stack's local Debian base image,
// pushed to a test registry, pulled and started by the real Docker Engine, which
// then shows the modes, owners, symlinks, user, env and workdir the layer set.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { assemble } from "../../src/build/assemble.ts";
import { openLocation } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

const run = promisify(execFile);
const PORTS: [number, number] = [15450, 15469];
/** The Debian base stack/base-images.sh makes and pushes (docs/stack.md). */
const LOCAL_BASE = process.env.IMAGEWRIGHT_BASE_IMAGE ?? "127.0.0.1:5000/upstream/debian:bookworm";

let work: string;
let registry: TestRegistry;
let client: RegistryClient;
const pulled: string[] = [];

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-assemble-docker-"));
  registry = await startRegistry({ ports: PORTS });
  client = new RegistryClient();
});
after(async () => {
  for (const image of pulled) await run("docker", ["rmi", "--force", image]).catch(() => undefined);
  await client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

test("an image assembled on the local Debian base runs in Docker with the layer's modes, owners and config", async () => {
  const app = path.join(work, "hello");
  await mkdir(path.join(app, "bin"), { recursive: true });
  await mkdir(path.join(app, "conf"));
  await writeFile(
    path.join(app, "bin", "hello"),
    [
      "#!/bin/bash",
      "set -eu",
      'echo "greeting=$GREETING"',
      'echo "uid=$(id -u) gid=$(id -g) pwd=$(pwd)"',
      "stat -c '%n %a %u:%g' /opt/hello/bin/hello /opt/hello/conf/secret /opt/hello/conf",
      'echo "link=$(readlink /opt/hello/run)"',
      'echo "secret=$(cat /opt/hello/conf/secret)"',
      'echo "args=$*"',
      "",
    ].join("\n"),
  );
  await writeFile(path.join(app, "conf", "secret"), "only-for-the-app\n");
  await symlink("bin/hello", path.join(app, "run"));
  await chmod(app, 0o755);
  await chmod(path.join(app, "bin"), 0o755);
  await chmod(path.join(app, "conf"), 0o750);
  await chmod(path.join(app, "bin", "hello"), 0o750);
  await chmod(path.join(app, "conf", "secret"), 0o600);

  const base = await openLocation(LOCAL_BASE, { client });
  const target = `${registry.host}/run/hello:1`;
  const output = await openLocation(target, { client, forWriting: true });
  const result = await assemble({
    bases: [{ base: { store: base.store, reference: base.reference, name: LOCAL_BASE } }],
    layers: [{ source: app, destination: "/opt/hello" }],
    config: { entrypoint: ["/opt/hello/run"], cmd: ["from-cmd"], env: ["GREETING=hallo welt"], user: "1000:1000", workdir: "/opt/hello" },
    owner: { uid: 1000, gid: 1000 },
    sourceDateEpoch: 0,
    target: output.store,
    tag: output.reference,
  });
  assert.equal(result.platforms[0]!.platform, "linux/amd64");

  await run("docker", ["pull", "--quiet", target]);
  pulled.push(target);
  const { stdout } = await run("docker", ["run", "--rm", "--network", "none", target]);
  assert.deepEqual(stdout.trim().split("\n"), [
    "greeting=hallo welt",
    "uid=1000 gid=1000 pwd=/opt/hello",
    "/opt/hello/bin/hello 750 1000:1000",
    "/opt/hello/conf/secret 600 1000:1000",
    "/opt/hello/conf 750 1000:1000",
    "link=bin/hello",
    "secret=only-for-the-app",
    "args=from-cmd",
  ]);
  const inspected = JSON.parse((await run("docker", ["image", "inspect", target])).stdout) as { RepoDigests: string[]; Config: { Entrypoint: string[] } }[];
  assert.ok(inspected[0]!.RepoDigests.includes(`${registry.host}/run/hello@${result.descriptor.digest}`), JSON.stringify(inspected[0]!.RepoDigests));
});
