import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { BuildPlan } from "../../src/build/index.ts";
import { parseJson, runCli } from "../support/cli.ts";
import { tempCatalog } from "../catalog/temp-catalog.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/catalog", import.meta.url));
const plan = (...args: string[]) => runCli(["plan", "--catalog", EXAMPLE, ...args]);

describe("imagewright plan", () => {
  it("shows the targets of a git tag as a table in build order", async () => {
    const result = await plan("--git-tag", "kafka4.1.0_stackable0.1.0");
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^\d+ targets for git tag kafka4\.1\.0_stackable0\.1\.0, in build order:$/);
    assert.match(lines[1]!, /^ *# +TARGET +WHY +TAG +DEPENDS ON +PLATFORMS +DOCKERFILE$/);
    assert.match(lines.at(-1)!, /^ *\d+ +kafka-4\.1\.0 +requested +4\.1\.0_stackable0\.1\.0 +java-base-\d+ +linux\/amd64 +images\/kafka\/Dockerfile$/);
    assert.match(lines[2]!, /^ *1 +debian-base-\d+ +dependency /);
  });

  it("answers the plan as JSON with --json", async () => {
    const result = await plan("--select", "kafka=3.9.1", "--json");
    assert.equal(result.code, 0, result.stderr);
    const answer = parseJson<BuildPlan & { catalog: string }>(result);
    assert.equal(answer.catalog, EXAMPLE);
    assert.equal(answer.trigger, "selection kafka=3.9.1");
    const kafka = answer.targets.at(-1)!;
    assert.equal(kafka.id, "kafka-3.9.1");
    assert.equal(kafka.reason, "requested");
    assert.deepEqual(kafka.references, ["127.0.0.1:5000/stackable/kafka:3.9.1_stackable0.2.0"]);
    assert.equal(kafka.dockerfile, `${EXAMPLE}/images/kafka/Dockerfile.kafka3`);
    assert.equal(kafka.buildArgs["ARTIFACT_URL"], "https://archive.apache.org/dist/kafka/3.9.1/kafka_2.13-3.9.1.tgz");
    assert.equal(kafka.buildArgs["PRODUCT_VERSION"], "3.9.1");
  });

  it("repeats --select and plans --all", async () => {
    const selected = parseJson<BuildPlan>(await plan("--select", "kafka=3.9.1", "--select", "kafka-native", "--json"));
    assert.deepEqual(
      selected.targets.filter((x) => x.reason === "requested").map((x) => x.id),
      ["kafka-3.9.1", "kafka-native-4.1.0"],
    );
    const all = parseJson<BuildPlan>(await plan("--all", "--json"));
    assert.equal(all.targets.length, 7);
  });

  it("exits 2 without a trigger or with two", async () => {
    const none = await plan();
    assert.equal(none.code, 2);
    assert.match(none.stderr, /say what to plan/);
    const two = await plan("--all", "--git-tag", "kafka4.1.0_stackable0.1.0");
    assert.equal(two.code, 2);
    assert.match(two.stderr, /give one trigger, not --git-tag and --all/);
  });

  it("exits 3 for a git tag that fits no scheme and for a malformed selection", async () => {
    const tag = await plan("--git-tag", "kafka_4.1.0");
    assert.equal(tag.code, 3);
    assert.match(tag.stderr, /reading git tag kafka_4\.1\.0/);
    const selection = await plan("--select", "kafka=");
    assert.equal(selection.code, 3);
  });

  it("exits 4 for an unknown image or version", async () => {
    const unknownImage = await plan("--select", "zookeeper=3.8.4", "--json");
    assert.equal(unknownImage.code, 4);
    assert.equal(parseJson<{ error: { kind: string } }>(unknownImage).error.kind, "not-found");
    const unknownVersion = await plan("--git-tag", "kafka9.9.9_stackable0.1.0");
    assert.equal(unknownVersion.code, 4);
    assert.match(unknownVersion.stderr, /kafka has no product version 9\.9\.9/);
  });

  it("exits 5 when the git tag's image version is not the catalog's", async () => {
    const result = await plan("--git-tag", "kafka4.1.0_stackable0.9.0");
    assert.equal(result.code, 5);
    assert.match(result.stderr, /image version 0\.9\.0, but the catalog has image version 0\.1\.0/);
    assert.match(result.stderr, /at: +.*images\/kafka\/image\.yaml:\d+:\d+/);
  });

  it("exits 5 for a catalog with a cycle", async (t) => {
    const root = tempCatalog(t, {
      "images/base/image.yaml": 'kind: base\nversions:\n  - productVersion: "12"\n    imageVersion: 0.1.0\n    dependencies:\n      app: 1.0.0\n',
    });
    const result = await runCli(["plan", "--catalog", root, "--all"]);
    assert.equal(result.code, 5);
    assert.match(result.stderr, /dependency cycle: app 1\.0\.0 → base 12 → app 1\.0\.0/);
  });

  it("plans what changed since a git revision", async (t) => {
    const root = tempCatalog(t);
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", ...args], { cwd: root, encoding: "utf8" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", "catalog");
    const unchanged = await runCli(["plan", "--catalog", root, "--changed-since", "HEAD"]);
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.equal(unchanged.stdout.trim(), "nothing to build for changed since HEAD");
    writeFileSync(join(root, "images/base/Dockerfile"), "FROM scratch\nLABEL fixed=cve\n");
    const changed = parseJson<BuildPlan>(await runCli(["plan", "--catalog", root, "--changed-since", "HEAD", "--json"]));
    assert.deepEqual(changed.targets.map((x) => [x.id, x.reason]), [["base-12", "requested"], ["app-1.0.0", "dependent"]]);
    const unknown = await runCli(["plan", "--catalog", root, "--changed-since", "v9.9.9"]);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /input: +--changed-since v9\.9\.9/);
    assert.match(unknown.stderr, /git knows no commit "v9\.9\.9"/);
  });

  it("shows the triggers and examples in --help", async () => {
    const result = await runCli(["plan", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--changed-since <git-rev>/);
    assert.match(result.stdout, /Examples:\n +imagewright plan --catalog examples\/catalog --git-tag kafka4\.1\.0_stackable0\.1\.0/);
  });
});
