import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import { hostVariable, RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from "../support/registry.ts";
import { pieces, pushImage, randomBlob, readAll, testImage } from "./fixtures.ts";

const PORTS = [15000, 15099] as const;

/** Asserts an error is an ImagewrightError of `kind` whose every rendering leaves out each secret. */
function assertRedacted(error: unknown, kind: string, secrets: readonly string[]): ImagewrightError {
  assert.ok(error instanceof ImagewrightError, `expected an ImagewrightError, got ${String(error)}`);
  assert.equal(error.kind, kind);
  const rendered = [error.message, JSON.stringify(error.toJSON()), String(error.stack), error.hint ?? "", error.input ?? ""].join("\n");
  for (const secret of secrets) assert.ok(!rendered.includes(secret), `error shows a secret: ${rendered}`);
  return error;
}

function envFor(host: string, user: string, password: string): NodeJS.ProcessEnv {
  const prefix = `IMAGEWRIGHT_REGISTRY_${hostVariable(host)}`;
  return { [`${prefix}_USERNAME`]: user, [`${prefix}_PASSWORD`]: password };
}

describe("basic auth (htpasswd) on a real registry", () => {
  let registry: TestRegistry;
  let dir: string;
  const password = "correct-horse-battery-staple";

  before(async () => {
    registry = await startRegistry({ ports: PORTS, auth: "htpasswd", users: { builder: password } });
    dir = await mkdtemp(join(tmpdir(), "imagewright-auth-"));
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("pushes and pulls with credentials from the environment", async () => {
    const client = new RegistryClient({ env: envFor(registry.host, "builder", password) });
    try {
      const repo = client.repository(registry.host, "org/basic");
      const image = testImage([4096]);
      await pushImage(repo, image, "1.0.0");
      assert.equal((await repo.resolve("1.0.0")).digest, image.digest);
      assert.deepEqual(await readAll(await repo.getBlob(image.layers[0]!.descriptor)), image.layers[0]!.bytes);
      assert.deepEqual(await repo.listTags(), ["1.0.0"]);
    } finally {
      await client.close();
    }
  });

  it("reads Docker's config.json auths entry (base64 user:password)", async () => {
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ auths: { [`http://${registry.host}/v2/`]: { auth: Buffer.from(`builder:${password}`).toString("base64") } } }));
    const client = new RegistryClient({ env: { DOCKER_CONFIG: dir } });
    try {
      assert.deepEqual(await client.repository(registry.host, "org/basic").listTags(), ["1.0.0"]);
    } finally {
      await client.close();
    }
  });

  it("prefers the per-host environment variables over config.json", async () => {
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("builder:stale-password").toString("base64") } } }));
    const client = new RegistryClient({ env: { DOCKER_CONFIG: dir, ...envFor(registry.host, "builder", password) } });
    try {
      assert.deepEqual(await client.repository(registry.host, "org/basic").listTags(), ["1.0.0"]);
    } finally {
      await client.close();
    }
  });

  it("runs the credential helper named in credHelpers (docker-credential-<name> get, host on stdin)", async () => {
    const bin = join(dir, "bin");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(bin, { recursive: true });
    // A helper speaking Docker's credential-helper protocol: the host on stdin, JSON on stdout.
    const helper = join(bin, "docker-credential-imagewright-test");
    await writeFile(
      helper,
      `#!/bin/sh\nread host\nif [ "$host" = "${registry.host}" ]; then printf '{"ServerURL":"%s","Username":"builder","Secret":"${password}"}' "$host"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    await chmod(helper, 0o755);
    await writeFile(join(dir, "config.json"), JSON.stringify({ credHelpers: { [registry.host]: "imagewright-test" } }));
    const client = new RegistryClient({ env: { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH ?? ""}` } });
    try {
      assert.deepEqual(await client.repository(registry.host, "org/basic").listTags(), ["1.0.0"]);
    } finally {
      await client.close();
    }
    const missing = new RegistryClient({ env: { DOCKER_CONFIG: dir, PATH: "/nonexistent" } });
    try {
      await assert.rejects(missing.repository(registry.host, "org/basic").listTags(), (error) => {
        assertRedacted(error, "unavailable", [password]);
        assert.match((error as Error).message, /docker-credential-imagewright-test .*is not installed/);
        return true;
      });
    } finally {
      await missing.close();
    }
  });

  it("follows a blob redirect to another origin without sending the credentials there", async () => {
    const storage = await startRegistry({ ports: PORTS });
    const storageProxy = await startRegistryProxy(storage, PORTS);
    const front = await startRegistryProxy(registry, PORTS);
    const client = new RegistryClient({ env: envFor(front.host, "builder", password) });
    const plain = new RegistryClient({ env: {} });
    try {
      const layer = randomBlob(64 * 1024);
      await plain.repository(storage.host, "org/basic").putBlob(layer.descriptor, pieces(layer.bytes));
      const repo = client.repository(front.host, "org/basic");
      assert.deepEqual(await repo.listTags(), ["1.0.0"]); // learns that the front registry wants Basic auth
      front.rules = [
        {
          match: (r) => r.method === "GET" && r.path.includes(layer.descriptor.digest),
          respond: { status: 307, headers: { location: `${storageProxy.url}/v2/org/basic/blobs/${layer.descriptor.digest}` } },
        },
      ];
      assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
      assert.deepEqual(front.records.filter((r) => r.status === 307).map((r) => r.authorized), [true]);
      assert.deepEqual(storageProxy.records.map((r) => [r.method, r.status, r.authorized]), [["GET", 200, false]]);
    } finally {
      await client.close();
      await plain.close();
      await front.close();
      await storageProxy.close();
      await storage.stop();
    }
  });

  it("rejects a wrong password with an error naming its source and never the password", async () => {
    const wrong = "wrong-password-do-not-print";
    const client = new RegistryClient({ env: envFor(registry.host, "builder", wrong) });
    try {
      await assert.rejects(client.repository(registry.host, "org/basic").resolve("1.0.0"), (error) => {
        const e = assertRedacted(error, "invalid-input", [wrong, Buffer.from(`builder:${wrong}`).toString("base64")]);
        assert.match(e.message, /rejected the credentials from IMAGEWRIGHT_REGISTRY_127_0_0_1_\d+_USERNAME\/_PASSWORD/);
        assert.match(e.input ?? "", /credentials for 127\.0\.0\.1:\d+/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  it("says credentials are needed when there are none", async () => {
    const client = new RegistryClient({ env: { DOCKER_CONFIG: join(dir, "empty") } });
    try {
      await assert.rejects(client.repository(registry.host, "org/basic").listTags(), (error) => {
        const e = assertRedacted(error, "invalid-input", []);
        assert.match(e.message, /needs credentials and none were found/);
        assert.match(e.hint ?? "", /docker login/);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

describe("token auth on a real registry with a JWT issuer", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  const password = "token-user-password";

  before(async () => {
    registry = await startRegistry({
      ports: PORTS,
      auth: "token",
      users: { builder: password, reader: "reader-password", mover: "mover-password" },
      refreshTokens: { "identity-token-of-builder": "builder" },
      // `reader` may only pull; `mover` may do anything but in org/mount-source; `builder` gets what it asks for.
      grant: (user, scope) =>
        user === "builder" ? scope.actions : user === "reader" ? scope.actions.filter((a) => a === "pull") : user === "mover" && scope.name !== "org/mount-source" ? scope.actions : [],
    });
    proxy = await startRegistryProxy(registry, PORTS);
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it("pushes and pulls with bearer tokens for the repository's scope, reusing cached tokens", async () => {
    const client = new RegistryClient({ env: envFor(registry.host, "builder", password) });
    try {
      const repo = client.repository(registry.host, "org/token");
      const image = testImage([2048, 4096]);
      await pushImage(repo, image, "1.0.0");
      const requests = registry.tokenRequests.length;
      assert.equal((await repo.getManifest("1.0.0")).descriptor.digest, image.digest);
      assert.deepEqual(await readAll(await repo.getBlob(image.layers[1]!.descriptor)), image.layers[1]!.bytes);
      assert.ok(registry.tokenRequests.every((r) => r.user === "builder" && r.service === "imagewright-test-registry"));
      assert.ok(registry.tokenRequests.some((r) => r.scopes.includes("repository:org/token:pull,push")));
      // Reads after the push: at most one more token (the pull scope), not one per request.
      assert.ok(registry.tokenRequests.length - requests <= 1, `token requests: ${JSON.stringify(registry.tokenRequests)}`);
    } finally {
      await client.close();
    }
  });

  it("shares one token request among parallel requests that meet the same challenge", async () => {
    const client = new RegistryClient({ env: envFor(registry.host, "builder", password) });
    try {
      const repo = client.repository(registry.host, "org/parallel");
      const before = registry.tokenRequests.length;
      const answers = await Promise.all(Array.from({ length: 8 }, () => repo.hasBlob(randomBlob(10).descriptor)));
      assert.deepEqual(answers, Array(8).fill(false));
      assert.deepEqual(
        registry.tokenRequests.slice(before).map((r) => r.scopes),
        [["repository:org/parallel:pull"]],
      );
    } finally {
      await client.close();
    }
  });

  it("pushes many blobs in parallel through one client, and lists the catalog with its own scope", async () => {
    const client = new RegistryClient({ env: envFor(registry.host, "builder", password), monolithicLimit: 64 * 1024 });
    try {
      const repo = client.repository(registry.host, "org/parallel-push");
      const image = testImage(Array.from({ length: 12 }, (_, i) => 50_000 + i * 40_000));
      await Promise.all([image.config, ...image.layers].map((b) => repo.putBlob(b.descriptor, pieces(b.bytes))));
      await repo.putManifest(image.manifest, "application/vnd.oci.image.manifest.v1+json", "1.0.0");
      const pulled = await Promise.all(image.layers.map(async (l) => readAll(await repo.getBlob(l.descriptor))));
      pulled.forEach((bytes, i) => assert.deepEqual(bytes, image.layers[i]!.bytes));
      const names = await client.catalog(registry.host);
      assert.ok(names.includes("org/parallel-push") && names.includes("org/token"), names.join(","));
      assert.ok(registry.tokenRequests.some((r) => r.scopes.includes("registry:catalog:*")));
    } finally {
      await client.close();
    }
  });

  it("asks for the source repository's pull scope when mounting, and mounts without uploading", async () => {
    const client = new RegistryClient({ env: envFor(proxy.host, "builder", password) });
    try {
      const source = client.repository(proxy.host, "org/mount-source");
      const target = client.repository(proxy.host, "org/mount-target");
      const layer = randomBlob(256 * 1024);
      await source.putBlob(layer.descriptor, pieces(layer.bytes));
      const uploaded = proxy.uploadedBytes();
      assert.equal(await target.mountBlob(layer.descriptor, source), true);
      assert.equal(proxy.uploadedBytes(), uploaded);
      const mountToken = registry.tokenRequests.find((r) => r.scopes.includes("repository:org/mount-source:pull") && r.scopes.includes("repository:org/mount-target:pull,push"));
      assert.ok(mountToken, `no token request with both scopes: ${JSON.stringify(registry.tokenRequests.map((r) => r.scopes))}`);
      assert.equal(await target.hasBlob(layer.descriptor), true);
    } finally {
      await client.close();
    }
  });

  it("falls back to copying when the account may not read the mount source", async () => {
    const builder = new RegistryClient({ env: envFor(registry.host, "builder", password) });
    const mover = new RegistryClient({ env: envFor(registry.host, "mover", "mover-password") });
    try {
      const layer = randomBlob(1000);
      await builder.repository(registry.host, "org/mount-source").putBlob(layer.descriptor, pieces(layer.bytes));
      const target = mover.repository(registry.host, "org/mover-target");
      assert.equal(await target.mountBlob(layer.descriptor, mover.repository(registry.host, "org/mount-source")), false);
      // The caller then copies; reading the source is what fails, naming the scope it lacks.
      await assert.rejects(mover.repository(registry.host, "org/mount-source").getBlob(layer.descriptor), (error) => {
        const e = assertRedacted(error, "invalid-input", ["mover-password"]);
        assert.match(e.message, /denied repository:org\/mount-source:pull to the credentials/);
        return true;
      });
    } finally {
      await builder.close();
      await mover.close();
    }
  });

  it("lets a pull-only user read but not push, with a clear error", async () => {
    const client = new RegistryClient({ env: envFor(registry.host, "reader", "reader-password") });
    try {
      const repo = client.repository(registry.host, "org/token");
      assert.deepEqual(await repo.listTags(), ["1.0.0"]);
      const layer = randomBlob(10);
      await assert.rejects(repo.putBlob(layer.descriptor, pieces(layer.bytes)), (error) => {
        const e = assertRedacted(error, "invalid-input", ["reader-password"]);
        assert.match(e.message, /denied repository:org\/token:pull,push to the credentials from IMAGEWRIGHT_REGISTRY_/);
        assert.match(e.hint ?? "", /lacks permission/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  it("exchanges an identity token from config.json with the OAuth2 refresh-token grant", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imagewright-identity-"));
    try {
      await writeFile(join(dir, "config.json"), JSON.stringify({ auths: { [registry.host]: { identitytoken: "identity-token-of-builder" } } }));
      const client = new RegistryClient({ env: { DOCKER_CONFIG: dir } });
      try {
        assert.deepEqual(await client.repository(registry.host, "org/token").listTags(), ["1.0.0"]);
        assert.deepEqual(registry.tokenRequests.at(-1), { user: "builder", service: "imagewright-test-registry", scopes: ["repository:org/token:pull"], granted: true, grantType: "refresh_token" });
      } finally {
        await client.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a wrong password at the token service without showing it", async () => {
    const wrong = "token-wrong-password-secret";
    const client = new RegistryClient({ env: envFor(registry.host, "builder", wrong) });
    try {
      await assert.rejects(client.repository(registry.host, "org/token").listTags(), (error) => {
        const e = assertRedacted(error, "invalid-input", [wrong, Buffer.from(`builder:${wrong}`).toString("base64")]);
        assert.match(e.message, /token service http:\/\/127\.0\.0\.1:\d+ answered HTTP 401/);
        return true;
      });
      assert.equal(registry.tokenRequests.at(-1)?.granted, false);
    } finally {
      await client.close();
    }
  });
});
