// Credentials never reach the terminal: the real CLI against a real registry
// with basic and token auth, wrong passwords, human and --json output.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hostVariable, RegistryClient } from "../../src/registry/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";
import { pushImage, testImage } from "./fixtures.ts";

const PORTS = [15000, 15099] as const;

function credentialEnv(host: string, user: string, password: string): NodeJS.ProcessEnv {
  const prefix = `IMAGEWRIGHT_REGISTRY_${hostVariable(host)}`;
  // An empty DOCKER_CONFIG directory keeps the developer's own ~/.docker out of the test.
  return { [`${prefix}_USERNAME`]: user, [`${prefix}_PASSWORD`]: password, DOCKER_CONFIG: "/nonexistent-imagewright-docker-config" };
}

for (const auth of ["htpasswd", "token"] as const) {
  describe(`the CLI with ${auth} auth`, () => {
    let registry: TestRegistry;
    const password = `${auth}-Sup3r-Secret-Pa55`;

    before(async () => {
      registry = await startRegistry({ ports: PORTS, auth, users: { deployer: password } });
      const client = new RegistryClient({ env: credentialEnv(registry.host, "deployer", password) });
      try {
        await pushImage(client.repository(registry.host, "org/kafka"), testImage([100]), "3.7.0");
      } finally {
        await client.close();
      }
    });
    after(async () => {
      await registry?.stop();
    });

    it("lists tags with the right password", async () => {
      const result = await runCli(["--json", "ls", `${registry.host}/org/kafka`], { env: credentialEnv(registry.host, "deployer", password) });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(parseJson<{ tags: string[] }>(result).tags, ["3.7.0"]);
      assert.ok(!(result.stdout + result.stderr).includes(password));
    });

    it("fails with exit 3 and never prints a wrong password, in either output", async () => {
      const wrong = `${auth}-Wr0ng-Secret-Pa55`;
      const secrets = [wrong, Buffer.from(`deployer:${wrong}`).toString("base64")];
      const human = await runCli(["ls", `${registry.host}/org/kafka`], { env: credentialEnv(registry.host, "deployer", wrong) });
      assert.equal(human.code, 3, human.stderr);
      assert.match(human.stderr, /rejected the credentials from IMAGEWRIGHT_REGISTRY_127_0_0_1_\d+_USERNAME\/_PASSWORD/);
      const json = await runCli(["--json", "digest", `${registry.host}/org/kafka:3.7.0`], { env: credentialEnv(registry.host, "deployer", wrong) });
      assert.equal(json.code, 3, json.stderr);
      const error = parseJson<{ error: { kind: string; input: string } }>(json).error;
      assert.equal(error.kind, "invalid-input");
      assert.match(error.input, /credentials for 127\.0\.0\.1:\d+/);
      for (const output of [human.stdout, human.stderr, json.stdout, json.stderr]) {
        for (const secret of secrets) assert.ok(!output.includes(secret), `secret printed: ${output}`);
      }
    });
  });
}
