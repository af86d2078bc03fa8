// The stack that stack/up.sh starts is there and real: Docker Engine, the loopback
// registry, the Go-built tools at their pinned versions, and the locally made Debian
// base images in both the registry and the engine.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_REGISTRY, TOOLS_BIN, fetchManifest, run } from "./exec.ts";

const TOOLS_SCRIPT = fileURLToPath(new URL("../../stack/tools.sh", import.meta.url));

/** The pins in stack/tools.sh (`"names|module|version|…"`), so the test checks what the script promises. */
async function pinnedTools(list: "core_tools" | "scanner_tools"): Promise<Map<string, string>> {
  const script = await readFile(TOOLS_SCRIPT, "utf8");
  const block = new RegExp(`^${list}=\\(\\n([\\s\\S]*?)^\\)`, "m").exec(script)?.[1];
  assert.ok(block, `${list} in stack/tools.sh`);
  const pins = new Map<string, string>();
  for (const [, names = "", version = ""] of block.matchAll(/^\s*"([^|]+)\|[^|]+\|([^|]+)\|/gm)) {
    for (const name of names.split(" ")) pins.set(name, version);
  }
  return pins;
}

/** How each core tool reports its version. */
const VERSION_ARGS: Record<string, string[]> = {
  crane: ["version"],
  regctl: ["version", "--format", "{{.VCSTag}}"],
  buildx: ["version"],
  buildkitd: ["--version"],
  buildctl: ["--version"],
  registry: ["--version"],
};

describe("the stack", () => {
  it("has a running Docker Engine", async () => {
    const info = await run("docker", ["info", "--format", "{{.ServerVersion}} {{.Driver}}"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^\d+\.\d+\.\d+\S* \S+/);
  });

  it("has the default registry speaking the distribution API on loopback", async () => {
    const response = await fetch(`http://${DEFAULT_REGISTRY}/v2/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
  });

  it("has the core Go-built tools at the versions stack/tools.sh pins, buildx also as a docker CLI plugin", async () => {
    const pins = await pinnedTools("core_tools");
    assert.deepEqual([...pins.keys()].sort(), Object.keys(VERSION_ARGS).sort());
    for (const [name, version] of pins) {
      const reported = await run(join(TOOLS_BIN, name), VERSION_ARGS[name]!);
      assert.equal(reported.code, 0, `${name}: ${reported.stderr}`);
      assert.ok(reported.stdout.includes(version) || reported.stdout.includes(version.slice(1)), `${name} reports ${reported.stdout.trim()}, pinned ${version}`);
    }
    const plugin = await run("docker", ["buildx", "version"]);
    assert.equal(plugin.code, 0, plugin.stderr);
    assert.ok(plugin.stdout.includes(pins.get("buildx")!), plugin.stdout);
  });

  for (const suite of ["bookworm", "trixie"]) {
    it(`has debian:${suite} made locally, in the registry and in the engine`, async () => {
      const repository = "upstream/debian";
      const manifest = await fetchManifest(DEFAULT_REGISTRY, repository, suite);
      assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
      const body = manifest.body as { config: { digest: string }; layers: { digest: string; size: number }[] };
      assert.equal(body.layers.length, 1, "one rootfs layer");
      const config = (await (await fetch(`http://${DEFAULT_REGISTRY}/v2/${repository}/blobs/${body.config.digest}`)).json()) as {
        os: string;
        architecture: string;
        created?: string;
        config: { Labels: Record<string, string> };
        rootfs: { diff_ids: string[] };
      };
      assert.equal(config.os, "linux");
      assert.equal(config.architecture, "amd64");
      // The layer is the mmdebstrap tarball itself: its recorded checksum is the layer's diff id.
      assert.equal(`sha256:${config.config.Labels["io.imagewright.rootfs.sha256"]}`, config.rootfs.diff_ids[0]);
      const layer = await fetch(`http://${DEFAULT_REGISTRY}/v2/${repository}/blobs/${body.layers[0]!.digest}`, { method: "HEAD" });
      assert.equal(layer.status, 200);

      const ref = `${DEFAULT_REGISTRY}/${repository}:${suite}`;
      const inspect = await run("docker", ["image", "inspect", "--format", "{{json .RepoDigests}}", ref]);
      assert.equal(inspect.code, 0, inspect.stderr);
      assert.ok((JSON.parse(inspect.stdout) as string[]).includes(`${DEFAULT_REGISTRY}/${repository}@${manifest.digest}`), inspect.stdout);
      const release = await run("docker", ["run", "--rm", "--network", "none", ref, "sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME && command -v apt-get"]);
      assert.equal(release.code, 0, release.stderr);
      assert.deepEqual(release.stdout.trim().split("\n"), [suite, "/usr/bin/apt-get"]);
    });
  }
});
