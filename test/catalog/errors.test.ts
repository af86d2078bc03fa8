import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CatalogInvalidError, loadCatalog } from "../../src/catalog/index.ts";
import type { CatalogProblem } from "../../src/catalog/index.ts";
import { isImagewrightError } from "../../src/errors/index.ts";
import { tempCatalog } from "./temp-catalog.ts";

/** The problems loading `root` reports; fails the test when it loads. */
function problemsOf(root: string): CatalogProblem[] {
  try {
    loadCatalog(root);
  } catch (error) {
    assert.ok(error instanceof CatalogInvalidError, `expected an invalid catalog, got ${String(error)}`);
    assert.equal(error.kind, "invalid-input");
    assert.equal(error.exitCode, 3);
    return [...error.problems];
  }
  assert.fail("the catalog loaded, but it is invalid");
}

interface Expected {
  file: string;
  line: number;
  column: number;
  path?: string;
  message: RegExp;
}

function assertProblem(problem: CatalogProblem | undefined, expected: Expected): void {
  assert.ok(problem, "a problem was reported");
  assert.ok(problem.file.endsWith(expected.file), `${problem.file} is ${expected.file}`);
  assert.deepEqual([problem.line, problem.column], [expected.line, expected.column], problem.message);
  if (expected.path !== undefined) assert.equal(problem.path, expected.path);
  assert.match(problem.message, expected.message);
}

const APP = "images/app/image.yaml";
const ROOT = "imagewright.yaml";
const rootWith = (line: string, replace: RegExp): string =>
  "registry: 127.0.0.1:5000\nnamespace: test\nvendor: stackable\ntagScheme: stackable\nplatforms: [linux/amd64]\n".replace(replace, line);
const version = (extra: string, head = ""): string =>
  `kind: product\n${head}versions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      base: "12"\n${extra}`;

const CASES: Array<{ name: string; files: Record<string, string | null>; expected: Expected }> = [
  {
    name: "a YAML syntax error (unclosed quote)",
    files: { [APP]: 'kind: product\nversions:\n  - productVersion: "1.0.0\n    imageVersion: 0.1.0\n' },
    expected: { file: APP, line: 5, column: 1, path: "(syntax)", message: /YAML syntax: Missing closing "quote/ },
  },
  {
    name: "a YAML indentation error",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n   imageVersion: 0.1.0\n" },
    expected: { file: APP, line: 4, column: 1, message: /YAML syntax/ },
  },
  {
    name: "a repeated key",
    files: { [APP]: "kind: product\nkind: base\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n" },
    expected: { file: APP, line: 2, column: 1, message: /Map keys must be unique/ },
  },
  {
    name: "a mistyped key, with a suggestion",
    files: { [APP]: version("    dockerfle: Dockerfile\n") },
    expected: { file: APP, line: 7, column: 5, path: "versions[0].dockerfle", message: /unknown key "dockerfle" \(did you mean "dockerfile"\?\)/ },
  },
  {
    name: "an unknown key in the root file",
    files: { [ROOT]: rootWith("registry: 127.0.0.1:5000\nregistryy: x\n", /^registry: .*\n/) },
    expected: { file: ROOT, line: 2, column: 1, path: "registryy", message: /unknown key "registryy" \(did you mean "registry"\?\)/ },
  },
  {
    name: "an unquoted product version YAML reads as a number",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 4.10\n    imageVersion: 0.1.0\n" },
    expected: { file: APP, line: 3, column: 21, message: /YAML reads 4\.10 as the number 4\.1: write it in quotes, "4\.10"/ },
  },
  {
    name: "an unquoted dependency version",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      base: 12\n" },
    expected: { file: APP, line: 6, column: 13, path: "versions[0].dependencies.base", message: /write it in quotes, "12"/ },
  },
  {
    name: "an image version that is not SemVer",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: v1.0.0\n" },
    expected: { file: APP, line: 4, column: 19, message: /expected an image version in SemVer .* got "v1\.0\.0"/ },
  },
  {
    name: "a product version outside the grammar",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0-beta\n    imageVersion: 0.1.0\n" },
    expected: { file: APP, line: 3, column: 21, message: /product version "1\.0\.0-beta" has "-" at character 6/ },
  },
  {
    name: "a missing required key, at the entry that lacks it",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n    testSuite: kafka\n" },
    expected: { file: APP, line: 3, column: 5, path: "versions[0].imageVersion", message: /missing required key "imageVersion"/ },
  },
  {
    name: "a missing root key",
    files: { [ROOT]: rootWith("", /^registry: .*\n/) },
    expected: { file: ROOT, line: 1, column: 1, path: "registry", message: /missing required key "registry"/ },
  },
  {
    name: "an empty image file",
    files: { [APP]: "" },
    expected: { file: APP, line: 1, column: 1, message: /missing required key "kind"/ },
  },
  {
    name: "an unknown support status",
    files: { [APP]: version("    support: maybe\n") },
    expected: { file: APP, line: 7, column: 14, message: /expected "supported", "end-of-life" or \{ status, endOfLife/ },
  },
  {
    name: "a bad end-of-life date, pointed at inside the object",
    files: { [APP]: version("    support:\n      status: end-of-life\n      endOfLife: 2025-13-01\n") },
    expected: { file: APP, line: 9, column: 18, path: "versions[0].support.endOfLife", message: /expected a date as YYYY-MM-DD/ },
  },
  {
    name: "a malformed platform",
    files: { [ROOT]: rootWith("platforms: [linux-amd64]\n", /^platforms: .*\n/m) },
    expected: { file: ROOT, line: 5, column: 13, path: "platforms[0]", message: /expected a platform such as "linux\/amd64"/ },
  },
  {
    name: "an unknown tag scheme preset",
    files: { [ROOT]: rootWith("tagScheme: stackabel\n", /^tagScheme: .*\n/m) },
    expected: { file: ROOT, line: 4, column: 12, path: "tagScheme", message: /unknown tag scheme preset "stackabel"/ },
  },
  {
    name: "a vendor word the tag scheme cannot split",
    files: { [ROOT]: rootWith("vendor: acme2\n", /^vendor: .*\n/m) },
    expected: { file: ROOT, line: 3, column: 9, path: "vendor", message: /vendor word "acme2" is not valid/ },
  },
  {
    name: "a bad registry host",
    files: { [ROOT]: rootWith("registry: http://127.0.0.1:5000\n", /^registry: .*\n/) },
    expected: { file: ROOT, line: 1, column: 11, message: /expected a registry host with an optional port/ },
  },
  {
    name: "a duplicate product version",
    files: { "images/base/image.yaml": 'kind: base\nversions:\n  - productVersion: "12"\n    imageVersion: 0.1.0\n  - productVersion: "12"\n    imageVersion: 0.2.0\n' },
    expected: { file: "images/base/image.yaml", line: 5, column: 21, message: /duplicate product version 12 of base \(first at line 3\)/ },
  },
  {
    name: "a dependency on an unknown image",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      bsae: \"12\"\n" },
    expected: { file: APP, line: 6, column: 7, path: "versions[0].dependencies.bsae", message: /app 1\.0\.0 depends on unknown image "bsae" \(the catalog has: app, base\)/ },
  },
  {
    name: "a dependency on an unknown version",
    files: { [APP]: "kind: product\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 0.1.0\n    dependencies:\n      base: \"11\"\n" },
    expected: { file: APP, line: 6, column: 7, message: /depends on base 11, which the catalog does not have \(base has: 12\)/ },
  },
  {
    name: "a platform the dependency is not built for",
    files: { [APP]: version("    platforms: [linux/amd64, linux/arm64]\n") },
    expected: { file: APP, line: 6, column: 7, message: /built for linux\/arm64, but its dependency base 12 only for linux\/amd64/ },
  },
  {
    name: "a Dockerfile that leaves the image's folder with ..",
    files: { [APP]: version("", "dockerfile: ../base/Dockerfile\n") },
    expected: { file: APP, line: 2, column: 13, path: "dockerfile", message: /must stay inside the image's folder; "\.\." is not allowed/ },
  },
  {
    name: "an absolute Dockerfile path",
    files: { [APP]: version("    dockerfile: /etc/passwd\n") },
    expected: { file: APP, line: 7, column: 17, message: /must be relative to the image's folder, not absolute \(\/etc\/passwd\)/ },
  },
  {
    name: "a context that leaves the image's folder",
    files: { [APP]: version("", "context: ../..\n") },
    expected: { file: APP, line: 2, column: 10, path: "context", message: /build context must stay inside/ },
  },
  {
    name: "a missing Dockerfile",
    files: { "images/app/Dockerfile": null },
    expected: { file: APP, line: 4, column: 5, message: /Dockerfile "Dockerfile" does not exist in the image's folder/ },
  },
  {
    name: "an image folder without image.yaml",
    files: { [APP]: null },
    expected: { file: ROOT, line: 1, column: 1, message: /image folder .*images\/app has no image\.yaml/ },
  },
  {
    name: "an image folder name that is no image name",
    files: { "images/Kafka/image.yaml": 'kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n', "images/Kafka/Dockerfile": "FROM scratch\n" },
    expected: { file: "images/Kafka/image.yaml", line: 1, column: 1, message: /image folder name "Kafka" is not a valid image name/ },
  },
  {
    name: "an unknown placeholder in the artifact URL",
    files: { [APP]: version("", "artifact:\n  url: https://example.org/{version}.tgz\n") },
    expected: { file: APP, line: 3, column: 8, path: "artifact.url", message: /unknown placeholder \{version\}/ },
  },
  {
    name: "an artifact URL that is not a URL",
    files: { [APP]: version("    artifact:\n      url: kafka-{productVersion}.tgz\n") },
    expected: { file: APP, line: 8, column: 12, message: /expected an absolute URL .*got "kafka-1\.0\.0\.tgz"/ },
  },
  {
    name: "a build argument YAML reads as a number",
    files: { [APP]: version("", "buildArgs:\n  SCALA_VERSION: 2.10\n") },
    expected: { file: APP, line: 3, column: 18, message: /YAML reads 2\.10 as the number 2\.1/ },
  },
  {
    name: "a build argument name Dockerfiles cannot use",
    files: { [APP]: version("", "buildArgs:\n  1BAD: x\n") },
    expected: { file: APP, line: 3, column: 3, message: /invalid key "1BAD": expected a build argument name/ },
  },
];

describe("invalid catalogs name the file, line and column", () => {
  for (const { name, files, expected } of CASES) {
    it(name, (t) => {
      const problems = problemsOf(tempCatalog(t, files));
      assertProblem(problems[0], expected);
    });
  }

  it("reports every problem at once, and the error names the first", (t) => {
    const root = tempCatalog(t, { [APP]: "kind: prodcut\nversions:\n  - productVersion: 1.0.0\n    imageVersion: 1\n    platforms: []\n" });
    try {
      loadCatalog(root);
      assert.fail("loaded an invalid catalog");
    } catch (error) {
      assert.ok(error instanceof CatalogInvalidError);
      assert.deepEqual(
        error.problems.map((p) => [p.path, p.line, p.column]),
        [
          ["kind", 1, 7],
          ["versions[0].imageVersion", 4, 19],
          ["versions[0].platforms", 5, 16],
        ],
      );
      assert.match(error.place!, /images\/app\/image\.yaml:1:7$/);
      assert.match(error.message, /also .*image\.yaml:4:19 versions\[0\]\.imageVersion/);
      assert.equal((error.toJSON()["problems"] as unknown[]).length, 3);
    }
  });
});

describe("problems shared by versions", () => {
  it("are reported once: a missing image Dockerfile used by every version", (t) => {
    const versions = ["1.0.0", "1.1.0", "1.2.0"].map((v) => `  - productVersion: ${v}\n    imageVersion: 0.1.0\n    dependencies:\n      base: "12"\n`).join("");
    const problems = problemsOf(tempCatalog(t, { [APP]: `kind: product\ndockerfile: Dockerfile.missing\nversions:\n${versions}` }));
    assert.equal(problems.length, 1);
    assertProblem(problems[0], { file: APP, line: 2, column: 13, path: "dockerfile", message: /Dockerfile "Dockerfile\.missing" does not exist/ });
  });
});

describe("paths cannot escape the image's folder through symlinks", () => {
  it("refuses a Dockerfile symlink that points outside", (t) => {
    const outside = mkdtempSync(join(tmpdir(), "imagewright-outside-"));
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, "Dockerfile"), "FROM scratch\n");
    const root = tempCatalog(t, { "images/app/Dockerfile": null });
    symlinkSync(join(outside, "Dockerfile"), join(root, "images/app/Dockerfile"));
    const [problem] = problemsOf(root);
    assertProblem(problem, { file: APP, line: 4, column: 5, message: /"Dockerfile" is a symlink that leads outside the image's folder/ });
  });

  it("refuses a symlinked folder inside the image that leads to a sibling image", (t) => {
    const root = tempCatalog(t, { [APP]: version("    dockerfile: shared/Dockerfile\n") });
    mkdirSync(join(root, "images/app"), { recursive: true });
    symlinkSync(join(root, "images/base"), join(root, "images/app/shared"));
    const [problem] = problemsOf(root);
    assertProblem(problem, { file: APP, line: 7, column: 17, message: /"shared\/Dockerfile" is a symlink that leads outside/ });
  });

  it("refuses an image folder that is a symlink out of the catalog", (t) => {
    const outside = mkdtempSync(join(tmpdir(), "imagewright-outside-"));
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, "image.yaml"), 'kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n');
    writeFileSync(join(outside, "Dockerfile"), "FROM scratch\n");
    const root = tempCatalog(t);
    symlinkSync(outside, join(root, "images/elsewhere"));
    const problems = problemsOf(root);
    assert.ok(problems.some((p) => /is a symlink that leads outside the catalog/.test(p.message)), JSON.stringify(problems));
  });
});

describe("image files cannot be read from outside the catalog", () => {
  it("refuses an image.yaml that is a symlink to a file outside", (t) => {
    const outside = mkdtempSync(join(tmpdir(), "imagewright-outside-"));
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(join(outside, "image.yaml"), 'kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n');
    const root = tempCatalog(t, { "images/base/image.yaml": null, "images/app/image.yaml": null, "images/app/Dockerfile": null });
    symlinkSync(join(outside, "image.yaml"), join(root, "images/base/image.yaml"));
    const [problem] = problemsOf(root);
    assert.match(problem!.message, /image\.yaml: "image\.yaml" is a symlink that leads outside the image's folder/);
  });

  it("skips a dangling symlink among the image folders", (t) => {
    const root = tempCatalog(t);
    symlinkSync(join(root, "no-such-folder"), join(root, "images/ghost"));
    assert.deepEqual(loadCatalog(root).images.map((image) => image.name), ["app", "base"]);
  });
});

describe("dependency cycles", () => {
  it("are a conflict that shows the cycle and where it starts", (t) => {
    const root = tempCatalog(t, {
      "images/base/image.yaml": 'kind: base\nversions:\n  - productVersion: "12"\n    imageVersion: 0.1.0\n    dependencies:\n      app: 1.0.0\n',
    });
    assert.throws(
      () => loadCatalog(root),
      (error: unknown) => {
        assert.ok(isImagewrightError(error));
        assert.equal(error.kind, "conflict");
        assert.equal(error.exitCode, 5);
        assert.equal(error.message, "dependency cycle: app 1.0.0 → base 12 → app 1.0.0");
        assert.match(error.place!, /images\/app\/image\.yaml:7:7$/);
        return true;
      },
    );
  });

  it("include an image that depends on itself", (t) => {
    const root = tempCatalog(t, {
      "images/base/image.yaml": 'kind: base\nversions:\n  - productVersion: "12"\n    imageVersion: 0.1.0\n    dependencies:\n      base: "12"\n',
    });
    assert.throws(() => loadCatalog(root), { kind: "conflict", message: "dependency cycle: base 12 → base 12" });
  });

  it("are found through longer chains", (t) => {
    const image = (name: string, dependsOn: string): string =>
      `kind: base\nversions:\n  - productVersion: "1"\n    imageVersion: 0.1.0\n    dependencies:\n      ${dependsOn}: "1"\n`;
    const root = tempCatalog(t, {
      "images/a/image.yaml": image("a", "b"),
      "images/a/Dockerfile": "FROM scratch\n",
      "images/b/image.yaml": image("b", "c"),
      "images/b/Dockerfile": "FROM scratch\n",
      "images/c/image.yaml": image("c", "a"),
      "images/c/Dockerfile": "FROM scratch\n",
    });
    assert.throws(() => loadCatalog(root), { kind: "conflict", message: "dependency cycle: a 1 → b 1 → c 1 → a 1" });
  });
});
