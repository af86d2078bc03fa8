// `imagewright build --dry-run` against a real registry: what is already there at
// its tag is not rebuilt (and neither is what only it needed), the bake file is
// printed for `buildx bake -f -`, and bad flags are usage errors.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { assemble } from "../../src/build/assemble.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

// Shares the assembler tests' range; ports are picked at random and retried when taken.
const PORTS: [number, number] = [15400, 15449];

interface Summary {
  dryRun: boolean;
  targets: { id: string; status: string; digest?: string }[];
  bakeFile: { group: { default: { targets: string[] } }; target: Record<string, { contexts?: Record<string, string> }> };
}

let work: string;
let registry: TestRegistry;
let client: RegistryClient;
let catalog: string;

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), "imagewright-build-cli-"));
  registry = await startRegistry({ ports: PORTS });
  client = new RegistryClient();
  catalog = path.join(work, "catalog");
  const files: Record<string, string> = {
    "imagewright.yaml": `registry: ${registry.host}\nnamespace: acme\nvendor: acme\ntagScheme: stackable\nplatforms: [linux/amd64]\nevaluation:\n  namespace: evaluation\nimages: images\n`,
    "images/os/image.yaml": 'kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n',
    "images/os/Dockerfile": "FROM scratch\n",
    "images/runtime/image.yaml": 'kind: base\nversions:\n  - productVersion: "8"\n    imageVersion: 0.2.0\n    dependencies:\n      os: "1"\n',
    "images/runtime/Dockerfile": "ARG OS_IMAGE\nFROM ${OS_IMAGE}\n",
    "images/server/image.yaml": 'kind: product\nversions:\n  - productVersion: 2.0.0\n    imageVersion: 0.3.0\n    dependencies:\n      runtime: "8"\n',
    "images/server/Dockerfile": "ARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n",
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(catalog, name)), { recursive: true });
    await writeFile(path.join(catalog, name), content);
  }
});
after(async () => {
  await client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("imagewright build --dry-run", () => {
  test("plans every missing image, then leaves out what the registry has at its tag", async () => {
    const before = await runCli(["--json", "build", "--catalog", catalog, "--git-tag", "server2.0.0_acme0.3.0", "--dry-run"]);
    assert.equal(before.code, 0, before.stderr);
    const planned = parseJson<Summary>(before);
    assert.equal(planned.dryRun, true);
    assert.deepEqual(planned.targets.map((t) => [t.id, t.status]), [
      ["os-1", "planned"],
      ["runtime-8", "planned"],
      ["server-2.0.0", "planned"],
    ]);

    // Put something at runtime's release tag: the registry now "has" runtime 8.
    const files = path.join(work, "runtime-files");
    await mkdir(files);
    await writeFile(path.join(files, "marker"), "runtime\n");
    const pushed = await assemble({ bases: [{ base: "scratch" }], layers: [{ source: files, destination: "/" }], sourceDateEpoch: 0, target: client.repository(registry.host, "acme/runtime"), tag: "8_acme0.2.0" });

    const after = await runCli(["--json", "build", "--catalog", catalog, "--git-tag", "server2.0.0_acme0.3.0", "--dry-run"]);
    assert.equal(after.code, 0, after.stderr);
    const summary = parseJson<Summary>(after);
    assert.deepEqual(summary.targets.map((t) => [t.id, t.status]), [
      ["os-1", "not-needed"],
      ["runtime-8", "present"],
      ["server-2.0.0", "planned"],
    ]);
    assert.equal(summary.targets[1]!.digest, pushed.descriptor.digest);
    assert.deepEqual(summary.bakeFile.group.default.targets, ["server-2_0_0"]);
    assert.equal(summary.bakeFile.target["server-2_0_0"]!.contexts, undefined, "FROM pulls the runtime from the registry");

    const forced = parseJson<Summary>(await runCli(["--json", "build", "--catalog", catalog, "--git-tag", "server2.0.0_acme0.3.0", "--dry-run", "--rebuild-dependencies"]));
    assert.deepEqual(forced.bakeFile.group.default.targets, ["os-1", "runtime-8", "server-2_0_0"]);
  });

  test("without --json the bake file itself is on stdout and the table on stderr", async () => {
    const result = await runCli(["build", "--catalog", catalog, "--select", "os", "--dry-run"]);
    assert.equal(result.code, 0, result.stderr);
    const file = JSON.parse(result.stdout) as Summary["bakeFile"];
    assert.deepEqual(file.group.default.targets, ["os-1"]);
    assert.match(result.stderr, /os-1\s+planned\s+requested/);
  });

  test("bad flags and bad triggers exit non-zero with the input named", async () => {
    const badOutput = await runCli(["--json", "build", "--catalog", catalog, "--select", "os", "--output", "/tmp/x"]);
    assert.equal(badOutput.code, 2);
    assert.match(parseJson<{ error: { input: string } }>(badOutput).error.input, /--output \/tmp\/x/);
    const badCache = await runCli(["--json", "build", "--catalog", catalog, "--select", "os", "--cache", "s3", "--dry-run"]);
    assert.equal(badCache.code, 2);
    const both = await runCli(["--json", "build", "--catalog", catalog, "--select", "os", "--push", "--output", `oci:${path.join(work, "l")}`]);
    assert.equal(both.code, 2);
    const noTrigger = await runCli(["--json", "build", "--catalog", catalog, "--dry-run"]);
    assert.equal(noTrigger.code, 2);
    const unknownImage = await runCli(["--json", "build", "--catalog", catalog, "--select", "nope", "--dry-run"]);
    assert.equal(unknownImage.code, 4);
    const wrongVersion = await runCli(["--json", "build", "--catalog", catalog, "--git-tag", "server2.0.0_acme0.9.0", "--dry-run"]);
    assert.equal(wrongVersion.code, 5);
    const badArg = await runCli(["--json", "build", "--catalog", catalog, "--select", "os", "--build-arg", "NOEQUALS", "--dry-run"]);
    assert.equal(badArg.code, 2);
  });
});
