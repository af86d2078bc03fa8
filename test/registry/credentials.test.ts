// Where credentials come from, in which order, and what a broken Docker config says.
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import { findCredential, hostVariable } from "../../src/registry/index.ts";

describe("credential sources", () => {
  let dir: string;
  let bin: string;
  const host = "registry.example.com:5000";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imagewright-credentials-"));
    bin = join(dir, "bin");
    await mkdir(bin);
    // A credential store speaking Docker's helper protocol, knowing one host.
    const store = join(bin, "docker-credential-teststore");
    await writeFile(store, `#!/bin/sh\nread host\nif [ "$host" = "${host}" ]; then echo '{"ServerURL":"x","Username":"<token>","Secret":"store-identity"}'; else echo "credentials not found in native keychain" >&2; exit 1; fi\n`);
    await chmod(store, 0o755);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const config = async (content: unknown): Promise<NodeJS.ProcessEnv> => {
    await writeFile(join(dir, "config.json"), typeof content === "string" ? content : JSON.stringify(content));
    return { DOCKER_CONFIG: dir, PATH: `${bin}:/usr/bin:/bin` };
  };

  it("names per-host variables after the host", () => {
    assert.equal(hostVariable("registry.example.com:5000"), "REGISTRY_EXAMPLE_COM_5000");
    assert.equal(hostVariable("[::1]:5000"), "___1__5000");
  });

  it("takes the caller's, then per-host variables, then the general pair, then config.json", async () => {
    const env = await config({ auths: { [host]: { auth: Buffer.from("file:file-pw").toString("base64") } } });
    const perHost = { [`IMAGEWRIGHT_REGISTRY_${hostVariable(host)}_USERNAME`]: "host", [`IMAGEWRIGHT_REGISTRY_${hostVariable(host)}_PASSWORD`]: "host-pw" };
    const general = { IMAGEWRIGHT_REGISTRY_USERNAME: "all", IMAGEWRIGHT_REGISTRY_PASSWORD: "all-pw" };
    const explicit = { [host]: { username: "caller", password: "caller-pw" } };
    assert.equal((await findCredential(host, { env: { ...env, ...perHost, ...general }, credentials: explicit }))?.username, "caller");
    assert.equal((await findCredential(host, { env: { ...env, ...perHost, ...general } }))?.username, "host");
    assert.equal((await findCredential(host, { env: { ...env, ...general } }))?.username, "all");
    assert.deepEqual(await findCredential(host, { env }), { username: "file", password: "file-pw", source: `${join(dir, "config.json")} auths["${host}"]` });
    // IMAGEWRIGHT_REGISTRY_HOST keeps the general pair away from other registries.
    assert.equal((await findCredential(host, { env: { ...env, ...general, IMAGEWRIGHT_REGISTRY_HOST: "other.example.com" } }))?.username, "file");
    assert.equal((await findCredential(host, { env: { ...env, ...general, IMAGEWRIGHT_REGISTRY_HOST: host } }))?.username, "all");
  });

  it("asks credsStore before auths, and falls back to auths when the store has nothing", async () => {
    const env = await config({ credsStore: "teststore", auths: { "https://other.example.com/v1/": { username: "u", password: "p" } } });
    assert.deepEqual(await findCredential(host, { env }), { identityToken: "store-identity", source: `docker-credential-teststore (${join(dir, "config.json")} credsStore)` });
    assert.deepEqual(await findCredential("other.example.com", { env }), { username: "u", password: "p", source: `${join(dir, "config.json")} auths["https://other.example.com/v1/"]` });
    assert.equal(await findCredential("unknown.example.com", { env }), undefined);
  });

  it("reports a broken config.json with the place", async () => {
    const env = await config('{"auths": {"x": {"auth": }}}');
    await assert.rejects(findCredential(host, { env }), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.kind, "invalid-input");
      assert.equal(error.input, join(dir, "config.json"));
      assert.equal(error.place, "byte 25 (line 1, column 26)");
      return true;
    });
    const notPair = await config({ auths: { [host]: { auth: Buffer.from("no-colon-here").toString("base64") } } });
    await assert.rejects(findCredential(host, { env: notPair }), (error: unknown) => {
      assert.ok(error instanceof ImagewrightError);
      assert.equal(error.place, `$.auths["${host}"].auth`);
      assert.ok(!error.message.includes("no-colon-here"));
      return true;
    });
    const badHelper = await config({ credHelpers: { [host]: "../../bin/sh" } });
    await assert.rejects(findCredential(host, { env: badHelper }), /is not a plain program name/);
  });

  it("finds nothing, without failing, when there is no config.json", async () => {
    assert.equal(await findCredential(host, { env: { DOCKER_CONFIG: join(dir, "absent") } }), undefined);
  });
});
