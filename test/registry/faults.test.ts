import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { ImagewrightError } from "../../src/errors/index.ts";
import { MediaTypes } from "../../src/oci/model.ts";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from "../support/registry.ts";
import { pieces, pushImage, randomBlob, readAll, testImage } from "./fixtures.ts";

const PORTS = [15000, 15099] as const;
const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 5_000 };

function isError(kind: string, pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ImagewrightError, `expected an ImagewrightError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

describe("faults between the client and a real registry", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    proxy = await startRegistryProxy(registry, PORTS);
    client = new RegistryClient({ env: {}, retry: fast, monolithicLimit: 512 * 1024, resumeWindow: 1024 * 1024 });
  });
  after(async () => {
    await client?.close();
    await proxy?.close();
    await registry?.stop();
  });

  it("waits as long as Retry-After says on 429, then succeeds", async () => {
    const repo = client.repository(proxy.host, "faults/throttled");
    const image = testImage([100]);
    await pushImage(repo, image, "1");
    proxy.rules = [{ match: (r) => r.path.endsWith("/manifests/1") && r.method === "GET", times: 2, respond: { status: 429, headers: { "retry-after": "1" }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } }];
    const start = Date.now();
    const manifest = await repo.getManifest("1");
    const waited = Date.now() - start;
    assert.equal(manifest.descriptor.digest, image.digest);
    const tries = proxy.records.filter((r) => r.path.endsWith("/manifests/1") && r.method === "GET");
    assert.deepEqual(tries.slice(-3).map((r) => r.status), [429, 429, 200]);
    // Two one-second Retry-After answers: the backoff alone (20-40 ms) would be far shorter.
    assert.ok(waited >= 1900, `retried after ${waited} ms, Retry-After asked for 2 x 1000 ms`);
  });

  it("gives up at once when Retry-After is longer than it is willing to wait", async () => {
    const repo = client.repository(proxy.host, "faults/throttled");
    proxy.rules = [{ match: (r) => r.method === "GET" && r.path.endsWith("/manifests/1"), times: 1, respond: { status: 503, headers: { "retry-after": "3600" } } }];
    await assert.rejects(repo.getManifest("1"), isError("unavailable", /asked to wait 3600 s \(HTTP 503\)/));
  });

  it("retries 500s on reads and on blob uploads", async () => {
    const repo = client.repository(proxy.host, "faults/five-hundred");
    const layer = randomBlob(200 * 1024);
    proxy.rules = [
      { match: (r) => r.method === "PUT" && r.path.includes("/blobs/uploads/"), times: 2, respond: { status: 500, body: "internal error" } },
      { match: (r) => r.method === "GET" && r.path.includes("/blobs/sha256:"), times: 2, respond: { status: 502 } },
    ];
    const start = proxy.records.length;
    await repo.putBlob(layer.descriptor, pieces(layer.bytes));
    assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    const statuses = proxy.records.slice(start).map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(statuses, ["POST 202", "PUT 500", "PUT 500", "PUT 201", "GET 502", "GET 502", "GET 200"]);
  });

  it("ends with an unavailable error naming the registry when 5xx persists", async () => {
    const repo = client.repository(proxy.host, "faults/down");
    proxy.rules = [{ match: () => true, respond: { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}' } }];
    await assert.rejects(repo.listTags(), isError("unavailable", new RegExp(`tags of ${proxy.host.replace(/\./g, "\\.")}/faults/down: registry ${proxy.host.replace(/\./g, "\\.")} is unavailable after 4 attempts: HTTP 503`)));
    proxy.rules = [];
  });

  it("sends a streamed upload cut off mid-way again from the kept window", async () => {
    const resuming = new RegistryClient({ env: {}, retry: fast, resumeWindow: 4 * 1024 * 1024 });
    try {
      const repo = resuming.repository(proxy.host, "faults/resume");
      const layer = randomBlob(3 * 1024 * 1024 + 10);
      proxy.rules = [{ match: (r) => r.method === "PATCH", times: 1, cutRequestAfter: 1_000_000 }];
      const start = proxy.records.length;
      await repo.putBlob(layer.descriptor, pieces(layer.bytes));
      const trail = proxy.records.slice(start);
      // Distribution drops an upload whose PATCH broke off (404 on its status), so the upload starts over from the window.
      assert.deepEqual(trail.map((r) => `${r.method} ${r.fault ?? r.status}`), ["POST 202", "PATCH cut-request", "GET 404", "POST 202", "PATCH 202", "PUT 201"]);
      assert.equal(trail[4]!.requestBytes, layer.bytes.length);
      assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    } finally {
      proxy.rules = [];
      await resuming.close();
    }
  });

  it("resends a refused PATCH from the kept window, and says so clearly when the window is too short", async () => {
    const layer = randomBlob(2 * 1024 * 1024);
    for (const [window, succeeds] of [[4 * 1024 * 1024, true], [256 * 1024, false]] as const) {
      const resuming = new RegistryClient({ env: {}, retry: fast, resumeWindow: window });
      try {
        const repo = resuming.repository(proxy.host, `faults/window-${window}`);
        // Answered by the proxy, not the registry: the registry holds nothing of this PATCH.
        proxy.rules = [{ match: (r) => r.method === "PATCH", times: 1, respond: { status: 500 } }];
        const upload = repo.putBlob(layer.descriptor, pieces(layer.bytes));
        if (succeeds) {
          await upload;
          assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
        } else {
          await assert.rejects(upload, isError("unavailable", /upload broke off and 127\.0\.0\.1:\d+ holds 0 bytes, fewer than can be sent again/));
          assert.equal(await repo.hasBlob(layer.descriptor), false);
        }
      } finally {
        proxy.rules = [];
        await resuming.close();
      }
    }
  });

  it("stops an upload the registry refuses, cancelling it and the source read", async () => {
    const repo = client.repository(proxy.host, "faults/refused");
    const layer = randomBlob(3 * 1024 * 1024);
    proxy.rules = [{ match: (r) => r.method === "PATCH", times: 1, respond: { status: 400, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}' } }];
    const source = pieces(layer.bytes);
    const start = proxy.records.length;
    await assert.rejects(repo.putBlob(layer.descriptor, source), isError("invalid-input", /BLOB_UPLOAD_INVALID/));
    assert.deepEqual(proxy.records.slice(start).map((r) => r.method), ["POST", "PATCH", "DELETE"]);
    assert.equal(source.destroyed, true);
    proxy.rules = [];
  });

  it("stops an upload whose source fails mid-way, cancelling it", async () => {
    const repo = client.repository(proxy.host, "faults/source-fails");
    const layer = randomBlob(3 * 1024 * 1024);
    // Two and a half chunks arrive, then the source fails: the upload has started by then.
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 2_500_000; i += 100_000) yield layer.bytes.subarray(i, i + 100_000);
        throw new Error("source disk went away");
      })(),
    );
    const start = proxy.records.length;
    await assert.rejects(repo.putBlob(layer.descriptor, source), /source disk went away/);
    assert.equal(proxy.records.slice(start).at(-1)!.method, "DELETE");
    assert.equal(await repo.hasBlob(layer.descriptor), false);
  });

  it("catches a blob whose bytes were corrupted in transit", async () => {
    const repo = client.repository(proxy.host, "faults/corrupt");
    const layer = randomBlob(64 * 1024);
    await repo.putBlob(layer.descriptor, pieces(layer.bytes));
    proxy.rules = [{ match: (r) => r.method === "GET" && r.path.includes(layer.descriptor.digest), times: 1, corrupt: true }];
    const stream = await repo.getBlob(layer.descriptor);
    await assert.rejects(readAll(stream), isError("invalid-input", /blob .*faults\/corrupt@sha256:[0-9a-f]{64} does not match its digest: got content with digest sha256:/));
    assert.equal(proxy.records.at(-1)!.fault, "corrupt");
  });

  it("resumes a download cut off by a dropped connection with a Range request", async () => {
    const repo = client.repository(proxy.host, "faults/corrupt");
    const layer = randomBlob(256 * 1024);
    await repo.putBlob(layer.descriptor, pieces(layer.bytes));
    proxy.rules = [{ match: (r) => r.method === "GET" && r.path.includes(layer.descriptor.digest), times: 1, cutAfter: 100_000 }];
    const start = proxy.records.length;
    assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    const gets = proxy.records.slice(start);
    assert.deepEqual(gets.map((r) => [r.status, r.fault ?? "", r.responseBytes]), [
      [200, "cut", 100_000],
      [206, "", 256 * 1024 - 100_000],
    ]);
    proxy.rules = [];
  });

  it("gives up on a download that keeps breaking off, naming where", async () => {
    const repo = client.repository(proxy.host, "faults/corrupt");
    const layer = randomBlob(256 * 1024);
    await repo.putBlob(layer.descriptor, pieces(layer.bytes));
    proxy.rules = [{ match: (r) => r.method === "GET" && r.path.includes(layer.descriptor.digest), cutAfter: 10_000 }];
    const stream = await repo.getBlob(layer.descriptor);
    await assert.rejects(readAll(stream), isError("unavailable", /download from 127\.0\.0\.1:\d+ broke off after 40000 of 262144 bytes/));
    proxy.rules = [];
  });

  it("catches a manifest whose bytes were corrupted in transit", async () => {
    const repo = client.repository(proxy.host, "faults/corrupt-manifest");
    const image = testImage([10]);
    await pushImage(repo, image, "1");
    proxy.rules = [{ match: (r) => r.method === "GET" && r.path.includes("/manifests/"), times: 2, corrupt: true }];
    await assert.rejects(repo.getManifest(image.digest), isError("invalid-input", /does not match its digest: content is sha256:[0-9a-f]{64}, expected sha256:/));
    await assert.rejects(repo.getManifest("1"), isError("invalid-input", /faults\/corrupt-manifest:1 does not match its digest/));
    proxy.rules = [];
  });

  it("refuses a manifest larger than the limit", async () => {
    const small = new RegistryClient({ env: {}, manifestLimit: 100 });
    try {
      const repo = small.repository(registry.host, "faults/corrupt-manifest");
      await assert.rejects(repo.getManifest("1"), isError("invalid-input", /more than the 100 bytes allowed/));
    } finally {
      await small.close();
    }
  });
});

describe("the registry stopped and restarted in the middle of a push", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;

  before(async () => {
    registry = await startRegistry({ ports: PORTS });
    proxy = await startRegistryProxy(registry, PORTS);
  });
  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it("fails clearly, never tags an incomplete image, and a rerun completes", async () => {
    const client = new RegistryClient({ env: {}, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 }, monolithicLimit: 512 * 1024, resumeWindow: 1024 * 1024 });
    try {
      const repo = client.repository(proxy.host, "restart/kafka");
      const image = testImage([300 * 1024, 2 * 1024 * 1024, 400 * 1024]);
      // The registry goes away when the second layer's upload starts.
      let posts = 0;
      proxy.rules = [{ match: (r) => r.method === "POST" && ++posts === 3, times: 1, before: () => registry.kill() }];
      await assert.rejects(pushImage(repo, image, "3.7.0"), isError("unavailable", /registry 127\.0\.0\.1:\d+ is unavailable after \d+ attempts/));
      await registry.start();
      proxy.rules = [];
      await assert.rejects(repo.resolve("3.7.0"), isError("not-found", /manifest .*restart\/kafka:3\.7\.0 not found/));
      assert.equal(await repo.hasBlob(image.config.descriptor), true, "blobs pushed before the outage are kept");
      assert.equal(await repo.hasBlob(image.layers[2]!.descriptor), false);

      const uploadedBefore = proxy.uploadedBytes();
      const pushed = await pushImage(repo, image, "3.7.0");
      assert.equal(pushed.digest, image.digest);
      // The rerun skipped the blob that was already there.
      const rerunBytes = proxy.uploadedBytes() - uploadedBefore;
      assert.equal(rerunBytes, image.layers.slice(1).reduce((s, l) => s + l.bytes.length, 0) + image.manifest.length);
      assert.equal((await repo.resolve("3.7.0")).digest, image.digest);
      for (const layer of image.layers) assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    } finally {
      await client.close();
    }
  });

  it("rides out a restart during a streamed upload by resuming it", async () => {
    // Patient enough for a registry that takes seconds to come back on a loaded machine.
    const client = new RegistryClient({ env: {}, retry: { attempts: 15, baseDelayMs: 50, maxDelayMs: 1_000 }, resumeWindow: 8 * 1024 * 1024 });
    try {
      const repo = client.repository(proxy.host, "restart/resume");
      const layer = randomBlob(4 * 1024 * 1024 + 17);
      let restarted: Promise<void> | undefined;
      // Stop the registry as the upload's PATCH arrives and bring it back while the client retries.
      proxy.rules = [
        {
          match: (r) => r.method === "PATCH",
          times: 1,
          before: async () => {
            await registry.kill();
            restarted = new Promise((resolve) => setTimeout(resolve, 300)).then(() => registry.start());
          },
        },
      ];
      const start = proxy.records.length;
      await repo.putBlob(layer.descriptor, pieces(layer.bytes));
      await restarted;
      const trail = proxy.records.slice(start).map((r) => `${r.method} ${r.status}`);
      assert.ok(trail.includes("PATCH 502"), trail.join(", "));
      assert.ok(trail.includes("GET 204"), `asked the upload's status: ${trail.join(", ")}`);
      assert.deepEqual(trail.slice(-2), ["PATCH 202", "PUT 201"]);
      assert.deepEqual(await readAll(await repo.getBlob(layer.descriptor)), layer.bytes);
    } finally {
      proxy.rules = [];
      await client.close();
    }
  });

  it("refuses a manifest whose blobs are missing, so no tag points at an incomplete image", async () => {
    const client = new RegistryClient({ env: {} });
    try {
      const repo = client.repository(registry.host, "restart/incomplete");
      const image = testImage([100, 200]);
      await repo.putBlob(image.config.descriptor, pieces(image.config.bytes));
      await repo.putBlob(image.layers[0]!.descriptor, pieces(image.layers[0]!.bytes));
      await assert.rejects(
        repo.putManifest(image.manifest, MediaTypes.ociManifest, "latest"),
        isError("invalid-input", new RegExp(`MANIFEST_BLOB_UNKNOWN.*${image.layers[1]!.descriptor.digest}`)),
      );
      await assert.rejects(repo.resolve("latest"), isError("not-found", /not found/));
    } finally {
      await client.close();
    }
  });
});
