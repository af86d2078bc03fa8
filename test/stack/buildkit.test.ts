// Real `docker buildx bake` runs: a two-target bake file FROM the locally made Debian
// base, pushed to the loopback registry, on the host buildkitd (builder `imagewright`,
// with a `target:` context as the build engine uses for local-image dependencies) and
// on the engine's own BuildKit (docker driver, plain targets only).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { DEFAULT_REGISTRY, fetchManifest, run } from "./exec.ts";

const BASE = `${DEFAULT_REGISTRY}/upstream/debian:bookworm`;

interface BakeMetadata {
  [target: string]: { "containerimage.digest"?: string };
}

describe("buildx bake on the stack's BuildKit", { timeout: 10 * 60_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** A build context with a two-target bake file; each test pushes to repositories of its own. */
  async function project(name: string, dependent: boolean) {
    const dir = await mkdtemp(join(tmpdir(), "imagewright-bake-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const prefix = `stack-test/${name}-${randomUUID().slice(0, 8)}`;
    await writeFile(join(dir, "Dockerfile.base"), ["ARG BASE", "FROM ${BASE}", "ARG GREETING", 'RUN printf "%s\\n" "$GREETING" >/greeting', ""].join("\n"));
    await writeFile(
      join(dir, "Dockerfile.app"),
      [dependent ? "FROM greeting" : "FROM " + BASE, "COPY --chmod=0755 app.sh /usr/local/bin/app", 'CMD ["app"]', ""].join("\n"),
    );
    await writeFile(join(dir, "app.sh"), '#!/bin/sh\ncat /greeting 2>/dev/null || echo "no greeting"\necho app\n');
    const tags = { greeting: `${DEFAULT_REGISTRY}/${prefix}/greeting:test`, app: `${DEFAULT_REGISTRY}/${prefix}/app:test` };
    const bake = {
      group: { default: { targets: ["greeting", "app"] } },
      target: {
        greeting: {
          context: ".",
          dockerfile: "Dockerfile.base",
          args: { BASE, GREETING: `hello from ${name}` },
          tags: [tags.greeting],
          output: ["type=registry"],
        },
        app: {
          context: ".",
          dockerfile: "Dockerfile.app",
          ...(dependent ? { contexts: { greeting: "target:greeting" } } : {}),
          tags: [tags.app],
          output: ["type=registry"],
        },
      },
    };
    await writeFile(join(dir, "docker-bake.json"), JSON.stringify(bake, null, 2));
    for (const tag of Object.values(tags)) {
      cleanups.push(async () => {
        await run("docker", ["image", "rm", "--force", tag]);
        const [, repository = "", reference = ""] = /^[^/]+\/(.+):([^:]+)$/.exec(tag) ?? [];
        const manifest = await fetchManifest(DEFAULT_REGISTRY, repository, reference).catch(() => undefined);
        if (manifest) await fetch(`http://${DEFAULT_REGISTRY}/v2/${repository}/manifests/${manifest.digest}`, { method: "DELETE" });
      });
    }
    return { dir, tags };
  }

  async function bake(dir: string, builder: string): Promise<BakeMetadata> {
    const result = await run("docker", ["buildx", "bake", "--builder", builder, "--progress", "plain", "--metadata-file", "metadata.json", "-f", "docker-bake.json"], {
      cwd: dir,
      timeoutMs: 8 * 60_000,
    });
    assert.equal(result.code, 0, result.stderr.slice(-4000));
    return JSON.parse(await readFile(join(dir, "metadata.json"), "utf8")) as BakeMetadata;
  }

  async function assertPushed(tag: string, metadata: BakeMetadata, target: string) {
    const [, repository = "", reference = ""] = /^[^/]+\/(.+):([^:]+)$/.exec(tag) ?? [];
    const pushed = await fetchManifest(DEFAULT_REGISTRY, repository, reference);
    assert.match(pushed.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(metadata[target]?.["containerimage.digest"], pushed.digest, `${target}: the digest buildx reports is the one the registry serves`);
  }

  async function runApp(tag: string): Promise<string[]> {
    const pull = await run("docker", ["pull", "--quiet", tag]);
    assert.equal(pull.code, 0, pull.stderr);
    const output = await run("docker", ["run", "--rm", "--network", "none", tag]);
    assert.equal(output.code, 0, output.stderr);
    return output.stdout.trim().split("\n");
  }

  it("host buildkitd (remote driver): two targets, one built FROM the other through a target: context, pushed", async () => {
    const { dir, tags } = await project("remote", true);
    const metadata = await bake(dir, "imagewright");
    await assertPushed(tags.greeting, metadata, "greeting");
    await assertPushed(tags.app, metadata, "app");
    assert.deepEqual(await runApp(tags.app), ["hello from remote", "app"]);
  });

  it("engine's own BuildKit (docker driver): two independent targets, pushed", async () => {
    const { dir, tags } = await project("docker", false);
    const metadata = await bake(dir, "default");
    await assertPushed(tags.greeting, metadata, "greeting");
    await assertPushed(tags.app, metadata, "app");
    assert.deepEqual(await runApp(tags.app), ["no greeting", "app"]);
  });
});
