// The Kafka images' release fetcher (resources/fetch-release) run with the real bash, curl, sha512sum and gpg against files served
// on loopback: both checksum formats Apache publishes, and detached signatures checked
// against a KEYS file made with a key generated for the test.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ServedFixture } from "../support/kafka-fixture.ts";
import { servePorts } from "./images.ts";

const exec = promisify(execFile);
const FETCH_RELEASE = fileURLToPath(new URL("../../examples/catalog/images/kafka/resources/fetch-release", import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
let served: ServedFixture;
let gnupg: string;

function fetchRelease(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [FETCH_RELEASE, ...args],
      { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: work } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(new Error(`fetch-release did not run: ${error.message}`, { cause: error }));
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

const gpg = (args: string[]) => exec("gpg", ["--batch", "--homedir", gnupg, ...args]);

before(async () => {
  work = await mkdtemp(join(tmpdir(), "iw-fetch-release-"));
  const files = join(work, "served");
  const release = join(work, "kafka_2.13-9.9.9");
  await mkdir(join(release, "bin"), { recursive: true });
  await mkdir(files);
  await writeFile(join(release, "bin", "kafka-server-start.sh"), "#!/bin/sh\necho broker\n");
  await writeFile(join(release, "NOTICE"), "Apache Kafka (test release)\n");
  await exec("tar", ["-czf", join(files, "kafka.tgz"), "-C", work, "kafka_2.13-9.9.9"]);
  await writeFile(join(files, "other.tgz"), "not the release");

  const { stdout: sum } = await exec("sha512sum", ["kafka.tgz"], { cwd: files });
  await writeFile(join(files, "kafka.tgz.sha512sum"), sum);
  gnupg = join(work, "gnupg");
  await mkdir(gnupg, { mode: 0o700 });
  // Apache's own format: gpg --print-md SHA512, upper-case hex in groups over several lines.
  const { stdout: printMd } = await exec("gpg", ["--batch", "--homedir", gnupg, "--print-md", "SHA512", "kafka.tgz"], { cwd: files });
  await writeFile(join(files, "kafka.tgz.sha512"), printMd);
  await writeFile(join(files, "wrong.sha512"), `${"0".repeat(128)}  kafka.tgz\n`);

  await gpg(["--passphrase", "", "--quick-generate-key", "Release Manager <rm@example.invalid>", "ed25519", "sign", "never"]);
  await gpg(["--passphrase", "", "--quick-generate-key", "Somebody Else <else@example.invalid>", "ed25519", "sign", "never"]);
  const { stdout: keys } = await gpg(["--armor", "--export", "rm@example.invalid"]);
  await writeFile(join(files, "KEYS"), keys);
  await gpg(["--armor", "--local-user", "rm@example.invalid", "--output", join(files, "kafka.tgz.asc"), "--detach-sign", join(files, "kafka.tgz")]);
  await gpg(["--armor", "--local-user", "else@example.invalid", "--output", join(files, "kafka.tgz.other.asc"), "--detach-sign", join(files, "kafka.tgz")]);
  await gpg(["--armor", "--local-user", "rm@example.invalid", "--output", join(files, "other.tgz.asc"), "--detach-sign", join(files, "other.tgz")]);
  served = await servePorts(files);
});

after(async () => {
  await served?.close();
  await rm(work, { recursive: true, force: true });
});

const destination = (name: string): string => join(work, "out", name);

describe("fetch-release", () => {
  it("checks the gpg --print-md style .sha512 (multi-line, upper case) and unpacks the release", async () => {
    const sha512 = await readFile(join(work, "served", "kafka.tgz.sha512"), "utf8");
    assert.match(sha512, /^kafka\.tgz: [0-9A-F]{8} /);
    assert.ok(sha512.trim().split("\n").length > 1, "the fixture checksum spans several lines, as Apache's does");
    const out = destination("print-md");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512"), out]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(out)).sort(), ["NOTICE", "bin"]);
  });

  it("checks the sha512sum style checksum", async () => {
    const out = destination("sha512sum");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512sum"), out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(join(out, "NOTICE"), "utf8"), "Apache Kafka (test release)\n");
  });

  it("refuses a release whose SHA-512 does not match, unpacking nothing", async () => {
    const out = destination("wrong-sum");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("wrong.sha512"), out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /SHA-512 of .* is [0-9a-f]{128}, but .*wrong\.sha512 says 0{128}/);
    await assert.rejects(readdir(out), { code: "ENOENT" });
  });

  it("verifies a detached signature against the KEYS file and names the signing key", async () => {
    const { stdout: fingerprints } = await gpg(["--with-colons", "--fingerprint", "rm@example.invalid"]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(fingerprints)?.[1];
    assert.ok(fingerprint !== undefined);
    const out = destination("signed");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512"), out, served.urlOf("kafka.tgz.asc"), served.urlOf("KEYS")]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`is signed by ${fingerprint}`));
    assert.deepEqual((await readdir(out)).sort(), ["NOTICE", "bin"]);
  });

  it("refuses a signature made by a key that is not in KEYS", async () => {
    const out = destination("stranger");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512"), out, served.urlOf("kafka.tgz.other.asc"), served.urlOf("KEYS")]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the signature .*kafka\.tgz\.other\.asc does not verify .*kafka\.tgz with the keys in .*KEYS/);
    await assert.rejects(readdir(out), { code: "ENOENT" });
  });

  it("refuses a signature of other bytes (a swapped tarball)", async () => {
    const out = destination("swapped");
    const result = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512"), out, served.urlOf("other.tgz.asc"), served.urlOf("KEYS")]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not verify/);
  });

  it("refuses a KEYS file without a signature URL, and a missing file", async () => {
    const usage = await fetchRelease([served.urlOf("kafka.tgz"), served.urlOf("kafka.tgz.sha512"), destination("x"), "", served.urlOf("KEYS")]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /a KEYS file was given .* but no signature URL/);
    const missing = await fetchRelease([served.urlOf("absent.tgz"), served.urlOf("kafka.tgz.sha512"), destination("y")]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /404/);
  });
});
