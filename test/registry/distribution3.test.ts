// What Distribution 2.8 cannot show: tag pagination and tag deletion, against
// Distribution v3 (built from the Go module proxy by stack/tools.sh).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RegistryClient } from "../../src/registry/index.ts";
import { startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from "../support/registry.ts";
import { pushImage, testImage } from "./fixtures.ts";

const PORTS = [15000, 15099] as const;

describe("registry client against Distribution v3", () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry({ ports: PORTS, implementation: "distribution-3" });
    proxy = await startRegistryProxy(registry, PORTS);
    client = new RegistryClient({ env: {}, pageSize: 2 });
  });
  after(async () => {
    await client?.close();
    await proxy?.close();
    await registry?.stop();
  });

  it("lists tags page by page (n=2 over 5 tags) following Link", async () => {
    const repo = client.repository(proxy.host, "org/paged");
    const image = testImage([10]);
    const tags = ["1.0.0", "1.1.0", "2.0.0", "2.1.0", "3.0.0"];
    for (const tag of tags) await pushImage(repo, image, tag);
    const start = proxy.records.length;
    assert.deepEqual(await repo.listTags(), tags);
    const pages = proxy.records.slice(start).map((r) => `${r.method} ${r.path} ${r.status}`);
    assert.deepEqual(pages, [
      "GET /v2/org/paged/tags/list?n=2 200",
      "GET /v2/org/paged/tags/list?last=1.1.0&n=2 200",
      "GET /v2/org/paged/tags/list?last=2.1.0&n=2 200",
    ]);
  });

  it("deletes a tag and leaves the manifest and its other tags", async () => {
    const repo = client.repository(registry.host, "org/untag");
    const image = testImage([10]);
    await pushImage(repo, image, "keep");
    await pushImage(repo, image, "drop");
    await repo.delete("drop");
    await assert.rejects(repo.resolve("drop"), { kind: "not-found" });
    assert.equal((await repo.resolve("keep")).digest, image.digest);
    assert.deepEqual(await repo.listTags(), ["keep"]);
  });
});
