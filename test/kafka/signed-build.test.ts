// The Dockerfile's signature branch in a real build: with ARTIFACT_SIGNATURE_URL and
// ARTIFACT_KEYS_URL the release stage installs gpg and accepts the fixture tarball
// only when it is signed by a key in KEYS (a key generated for this test).

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ServedFixture } from "../support/kafka-fixture.ts";
import { kafkaImage, servePorts, type BuiltKafkaImage } from "./images.ts";

const exec = promisify(execFile);
const CONTEXT = fileURLToPath(new URL("../../examples/catalog/images/kafka", import.meta.url));

let work: string;
let gnupg: string;
let served: ServedFixture;
let built: BuiltKafkaImage;
let fingerprint: string;

const gpg = (args: string[]) => exec("gpg", ["--batch", "--homedir", gnupg, ...args]);

before(async () => {
  built = await kafkaImage("4.1.0");
  work = await mkdtemp(join(tmpdir(), "iw-kafka-signed-"));
  gnupg = join(work, "gnupg");
  await mkdir(gnupg, { mode: 0o700 });
  const files = join(work, "served");
  await mkdir(files);
  const { fixture } = built;
  for (const file of [`${fixture.name}.tgz`, `${fixture.name}.tgz.sha512`]) await symlink(join(fixture.directory, file), join(files, file));
  await gpg(["--passphrase", "", "--quick-generate-key", "Kafka Release Manager <rm@example.invalid>", "ed25519", "sign", "never"]);
  await gpg(["--passphrase", "", "--quick-generate-key", "Not In KEYS <else@example.invalid>", "ed25519", "sign", "never"]);
  await writeFile(join(files, "KEYS"), (await gpg(["--armor", "--export", "rm@example.invalid"])).stdout);
  await gpg(["--armor", "--local-user", "rm@example.invalid", "--output", join(files, "good.asc"), "--detach-sign", fixture.tarball]);
  await gpg(["--armor", "--local-user", "else@example.invalid", "--output", join(files, "stranger.asc"), "--detach-sign", fixture.tarball]);
  fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec((await gpg(["--with-colons", "--fingerprint", "rm@example.invalid"])).stdout)?.[1] ?? "";
  served = await servePorts(files);
});

after(async () => {
  await served?.close();
  await rm(work, { recursive: true, force: true });
});

async function buildReleaseStage(signature: string): Promise<{ code: number; output: string }> {
  const { fixture } = built;
  const args = ["build", "--progress", "plain", "--no-cache", "--network", "host", "--target", "release", "--file", join(CONTEXT, "Dockerfile")];
  for (const [key, value] of Object.entries({
    ...built.baseArgs,
    ARTIFACT_URL: served.urlOf(`${fixture.name}.tgz`),
    ARTIFACT_CHECKSUM_URL: served.urlOf(`${fixture.name}.tgz.sha512`),
    ARTIFACT_SIGNATURE_URL: served.urlOf(signature),
    ARTIFACT_KEYS_URL: served.urlOf("KEYS"),
  })) {
    args.push("--build-arg", `${key}=${value}`);
  }
  try {
    const { stdout, stderr } = await exec("docker", [...args, CONTEXT], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DOCKER_BUILDKIT: "1" }, timeout: 15 * 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === "number" ? failure.code : 1, output: (failure.stdout ?? "") + (failure.stderr ?? "") };
  }
}

describe("a Kafka image build with a KEYS file", () => {
  it("accepts the release signed by a key in KEYS and names the key", { timeout: 20 * 60_000 }, async () => {
    const result = await buildReleaseStage("good.asc");
    assert.equal(result.code, 0, result.output.slice(-3000));
    assert.match(result.output, new RegExp(`fetch-release: .*kafka_2\\.13-4\\.1\\.0\\.tgz is signed by ${fingerprint}`));
  });

  it("fails the build when the signature is by a key that is not in KEYS", { timeout: 20 * 60_000 }, async () => {
    const result = await buildReleaseStage("stranger.asc");
    assert.notEqual(result.code, 0);
    assert.match(result.output, /fetch-release: the signature .*stranger\.asc does not verify .*kafka_2\.13-4\.1\.0\.tgz with the keys in .*KEYS/);
  });
});
