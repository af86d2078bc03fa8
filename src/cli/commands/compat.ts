// `imagewright compat …`: the compatibility matrix on the command line — its
// ConfigMap, checks, tables, image resolution for an operator, pod audits and
// release coverage. Each command is a few lines over src/compat.

import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ImagewrightError } from "../../errors/index.ts";
import {
  auditPods,
  configMapFor,
  coverRelease,
  findOverlaps,
  formatPosition,
  loadMatrix,
  matrixTable,
  loadPods,
  renderHtml,
  renderMarkdown,
  repositoryPathOf,
  resolveImage,
} from "../../compat/index.ts";
import type { AuditStatus, Candidate, Matrix, ResolveOptions } from "../../compat/index.ts";
import { withRegistryClient, type RegistryClient } from "../../registry/index.ts";
import { answer, table } from "../output.ts";

interface MatrixOptions {
  matrix?: string;
  configmap?: string;
}

const MATRIX_HELP = `
Where the matrix comes from (exactly one):
  --matrix <file>        the matrix source (kind: CompatibilityMatrix)
  --configmap <file|dir|->
                         a ConfigMap YAML file, a mounted ConfigMap directory
                         (the kubelet layout with ..data), or - for stdin
Either option also accepts the other kind of file; see docs/compat.md.`;

function addMatrixOptions(command: Command): Command {
  return command
    .option("--matrix <file>", "compatibility matrix source file")
    .option("--configmap <file|dir|->", "ConfigMap file, mounted ConfigMap directory, or - for stdin")
    .addHelpText("after", MATRIX_HELP);
}

function matrixLocation(options: MatrixOptions): string {
  if ((options.matrix === undefined) === (options.configmap === undefined)) {
    throw new ImagewrightError("usage", "give exactly one of --matrix and --configmap", {
      input: "--matrix/--configmap",
      hint: "e.g. --configmap examples/compat/configmap.yaml",
    });
  }
  return options.matrix ?? options.configmap ?? "";
}

function readMatrix(options: MatrixOptions): Promise<Matrix> {
  return loadMatrix(matrixLocation(options));
}

function registryHost(matrix: Matrix, flag: string | undefined): string {
  const host = flag ?? matrix.settings.registry;
  if (host === undefined) {
    throw new ImagewrightError("usage", "no registry: the matrix names none and --registry is not given", {
      input: "--registry",
      hint: "add `registry: host:port` to the matrix or pass --registry 127.0.0.1:5000",
    });
  }
  return host;
}

function storeOptions(client: RegistryClient, matrix: Matrix, product: string, flags: { registry?: string; repository?: string }): ResolveOptions {
  const host = registryHost(matrix, flags.registry);
  const store = client.repository(host, flags.repository ?? repositoryPathOf(matrix, product));
  return { store };
}

function candidateTable(candidates: readonly Candidate[]): string {
  if (candidates.length === 0) return "no images of this product version";
  return table(candidates, [
    { header: "IMAGE VERSION", value: (c) => c.imageVersion },
    { header: "TAG", value: (c) => c.tag },
    { header: "STATE", value: (c) => c.state },
    { header: "WHY", value: (c) => c.reason },
  ]);
}

async function writeOrPrint(command: Command, output: string | undefined, text: string, result: Record<string, unknown>): Promise<void> {
  if (output === undefined) {
    answer(command, { ...result, text }, () => text);
    return;
  }
  await writeFile(output, text);
  answer(command, { ...result, written: output }, () => `wrote ${output}`);
}

// ---- configmap -------------------------------------------------------------

function configmapCommand(compat: Command): void {
  compat
    .command("configmap")
    .description("write the Kubernetes ConfigMap that carries a matrix (data key matrix.yaml, the source verbatim)")
    .requiredOption("--matrix <file>", "compatibility matrix source file")
    .option("--name <name>", "ConfigMap name", "imagewright-compat")
    .option("--namespace <namespace>", "ConfigMap namespace")
    .option("-o, --output <file>", "write the ConfigMap here instead of stdout")
    .addHelpText("after", "\nExamples:\n  imagewright compat configmap --matrix examples/compat/matrix.yaml --namespace kafka -o configmap.yaml\n  imagewright compat configmap --matrix matrix.yaml | kubectl apply -f -")
    .action(async (options: { matrix: string; name: string; namespace?: string; output?: string }, command: Command) => {
      const matrix = await loadMatrix(options.matrix);
      const text = configMapFor(matrix, { name: options.name, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) });
      await writeOrPrint(command, options.output, text, { name: options.name, namespace: options.namespace ?? null, matrixDigest: matrix.digest });
    });
}

// ---- check -----------------------------------------------------------------

function checkCommand(compat: Command): void {
  addMatrixOptions(
    compat
      .command("check")
      .description("validate a matrix or ConfigMap: syntax, schema, ranges, tag scheme and contradicting rules")
      .addHelpText("after", "\nExamples:\n  imagewright compat check --matrix examples/compat/matrix.yaml\n  kubectl get configmap imagewright-compat -o yaml | imagewright compat check --configmap -"),
  ).action(async (options: MatrixOptions, command: Command) => {
    // A contradiction is refused while reading, with every pair and both rules' places in the error.
    const matrix = await readMatrix(options);
    const overlaps = findOverlaps(matrix).map((overlap) => ({
      rules: [overlap.first.number, overlap.second.number],
      positions: [formatPosition(overlap.first.position), formatPosition(overlap.second.position)],
      state: overlap.first.state,
      shared: overlap.shared,
    }));
    const result = {
      valid: true,
      source: matrix.source.name,
      matrixDigest: matrix.digest,
      rules: matrix.rules.length,
      products: [...new Set(matrix.rules.map((rule) => rule.product))],
      uncovered: matrix.settings.uncovered,
      agreeingOverlaps: overlaps,
    };
    answer(command, result, (r) =>
      [
        `${r.source}: valid, ${r.rules} rule(s) for ${r.products.join(", ") || "no products"}; uncovered combinations are ${r.uncovered}`,
        ...r.agreeingOverlaps.map((o) => `note: rules ${o.rules[0]} (${o.positions[0]}) and ${o.rules[1]} (${o.positions[1]}) overlap and agree (${o.state}) for ${o.shared}`),
      ].join("\n"),
    );
  });
}

// ---- render ----------------------------------------------------------------

function renderCommand(compat: Command): void {
  addMatrixOptions(
    compat
      .command("render")
      .description("render the matrix as a table: operator versions down, product/image versions across")
      .option("--format <format>", "markdown or html", "markdown")
      .option("-o, --output <file>", "write the table here instead of stdout")
      .addHelpText("after", "\nExamples:\n  imagewright compat render --matrix examples/compat/matrix.yaml\n  imagewright compat render --configmap /etc/compat --format html -o compat.html"),
  ).action(async (options: MatrixOptions & { format: string; output?: string }, command: Command) => {
    if (options.format !== "markdown" && options.format !== "html") {
      throw new ImagewrightError("usage", `unknown format "${options.format}"`, { input: "--format", hint: "markdown or html" });
    }
    const matrix = await readMatrix(options);
    const tableData = matrixTable(matrix);
    const text = options.format === "html" ? renderHtml(tableData) : renderMarkdown(tableData);
    await writeOrPrint(command, options.output, text, { format: options.format, table: tableData });
  });
}

// ---- resolve ---------------------------------------------------------------

interface ResolveFlags extends MatrixOptions {
  operator: string;
  registry?: string;
  repository?: string;
  imageVersion?: string;
  allowUnsupported?: boolean;
}

function resolveCommand(compat: Command): void {
  addMatrixOptions(
    compat
      .command("resolve")
      .description("the highest compatible image of a product version for an operator, as a digest-pinned reference")
      .argument("<product>", "e.g. kafka")
      .argument("<product-version>", "e.g. 3.7.0")
      .requiredOption("--operator <version>", "the operator's version, e.g. 0.3.1")
      .option("--registry <host>", "registry host[:port] (default: the matrix's registry)")
      .option("--repository <path>", "repository path (default: the matrix's, else <organisation>/<product>)")
      .option("--image-version <version>", "ask for this image version; it is checked like any other")
      .option("--allow-unsupported", "accept an unsupported image (with a warning) when no compatible one exists")
      .addHelpText(
        "after",
        "\nExamples:\n  imagewright compat resolve --operator 0.3.1 kafka 3.7.0 --configmap examples/compat/configmap.yaml\n  imagewright compat resolve --operator 0.3.1 kafka 3.8.0 --configmap /etc/compat --allow-unsupported --json\n\nExit: 0 an image was found; 1 refused (the reason says why); 4 unknown product, product version or image version.",
      ),
  ).action(async (product: string, productVersion: string, options: ResolveFlags, command: Command) => {
    const matrix = await readMatrix(options);
    const answerValue = await withRegistryClient((client) =>
      resolveImage(
        matrix,
        {
          operatorVersion: options.operator,
          product,
          productVersion,
          ...(options.imageVersion === undefined ? {} : { imageVersion: options.imageVersion }),
          allowUnsupported: options.allowUnsupported === true,
        },
        storeOptions(client, matrix, product, options),
      ),
    );
    if (!answerValue.found) {
      process.exitCode = 1;
      answer(command, answerValue, (r) => {
        process.stderr.write(`imagewright: refused: ${r.reason}\n`);
        return candidateTable(r.candidates);
      });
      return;
    }
    for (const warning of answerValue.warnings) process.stderr.write(`warning: ${warning}\n`);
    answer(command, answerValue, (r) =>
      [
        r.reference,
        `  state: ${r.state}, ${r.reason}`,
        "",
        candidateTable(r.candidates),
      ].join("\n"),
    );
  });
}

// ---- audit -----------------------------------------------------------------

const FAIL_LEVELS = ["incompatible", "unsupported", "outdated", "never"] as const;

function auditCommand(compat: Command): void {
  addMatrixOptions(
    compat
      .command("audit")
      .description("judge every deployed image (kubectl get pods -o json) for an operator version, and name the image to move to")
      .requiredOption("--pods <file|->", "the JSON of `kubectl get pods -o json`, or - for stdin")
      .requiredOption("--operator <version>", "the operator's version, e.g. 0.3.1")
      .option("--registry <host>", "registry host[:port] to look for replacements (default: the matrix's, else the image's)")
      .option("--fail-on <level>", `exit 1 when an image is at least this bad: ${FAIL_LEVELS.join(", ")}`, "incompatible")
      .addHelpText("after", "\nExamples:\n  kubectl get pods -n kafka -o json | imagewright compat audit --pods - --operator 0.3.1 --configmap cm.yaml\n  imagewright compat audit --pods pods.json --operator 0.3.1 --matrix matrix.yaml --fail-on outdated --json"),
  ).action(async (options: MatrixOptions & { pods: string; operator: string; registry?: string; failOn: string }, command: Command) => {
    const failOn = options.failOn as (typeof FAIL_LEVELS)[number];
    if (!FAIL_LEVELS.includes(failOn)) {
      throw new ImagewrightError("usage", `unknown --fail-on level "${options.failOn}"`, { input: "--fail-on", hint: FAIL_LEVELS.join(", ") });
    }
    if (options.pods === "-" && options.configmap === "-") {
      throw new ImagewrightError("usage", "only one of --pods and --configmap can read stdin", { input: "--pods/--configmap" });
    }
    const matrix = await readMatrix(options);
    const pods = await loadPods(options.pods);
    const report = await withRegistryClient((client) =>
      auditPods(matrix, options.operator, pods, (product, deployed) => {
        const host = options.registry ?? matrix.settings.registry ?? deployed.registry;
        const path = matrix.settings.organisation !== undefined || matrix.products[product]?.repository !== undefined ? repositoryPathOf(matrix, product) : deployed.repository;
        return { store: client.repository(host, path) };
      }),
    );
    const failing: readonly AuditStatus[] =
      failOn === "never" ? [] : failOn === "incompatible" ? ["incompatible"] : failOn === "unsupported" ? ["incompatible", "unsupported"] : ["incompatible", "unsupported", "outdated"];
    if (report.entries.some((entry) => failing.includes(entry.status))) process.exitCode = 1;
    answer(command, report, (r) =>
      [
        table(r.entries, [
          { header: "POD", value: (e) => (e.namespace === undefined ? e.pod : `${e.namespace}/${e.pod}`) },
          { header: "CONTAINER", value: (e) => e.container },
          { header: "IMAGE", value: (e) => e.image },
          { header: "STATUS", value: (e) => e.status },
          { header: "MOVE TO", value: (e) => e.moveTo ?? "-" },
        ]),
        "",
        ...r.entries.filter((e) => e.status !== "compatible").map((e) => `${e.pod}/${e.container}: ${e.status}: ${e.reason}`),
        Object.entries(r.counts)
          .filter(([, n]) => n > 0)
          .map(([status, n]) => `${n} ${status}`)
          .join(", "),
      ].join("\n"),
    );
  });
}

// ---- cover -----------------------------------------------------------------

function coverCommand(compat: Command): void {
  compat
    .command("cover")
    .description("after releasing an image patch version: which rules cover it, and add it to rules that list its previous patch")
    .requiredOption("--matrix <file>", "compatibility matrix source file (edited in place with --write; comments are kept)")
    .argument("<product>", "e.g. kafka")
    .argument("<product-version>", "e.g. 3.7.0")
    .argument("<image-version>", "the released image version, e.g. 0.2.1")
    .option("--write", "write the updated matrix back to --matrix")
    .addHelpText("after", "\nExamples:\n  imagewright compat cover --matrix examples/compat/matrix.yaml kafka 3.8.0 0.2.1\n  imagewright compat cover --matrix matrix.yaml kafka 3.8.0 0.2.1 --write --json")
    .action(async (product: string, productVersion: string, imageVersion: string, options: { matrix: string; write?: boolean }, command: Command) => {
    let text: string;
    try {
      text = await readFile(options.matrix, "utf8");
    } catch (cause) {
      throw new ImagewrightError("not-found", `cannot read compatibility matrix ${options.matrix}`, { input: options.matrix, cause });
    }
    const report = coverRelease(text, options.matrix, { product, productVersion, imageVersion });
    if (report.changed && options.write === true) await writeFile(options.matrix, report.text);
    const result = {
      release: report.release,
      covering: report.covering,
      changed: report.changed,
      written: report.changed && options.write === true,
      ...(report.changed && options.write !== true ? { text: report.text } : {}),
    };
    answer(command, result, (r) => {
      const lines =
        r.covering.length === 0
          ? [`no rule covers ${product} ${productVersion} image ${imageVersion}: it counts as uncovered until a rule names it`]
          : [
              table(r.covering, [
                { header: "RULE", value: (c) => String(c.rule.number) },
                { header: "AT", value: (c) => c.rule.position },
                { header: "OPERATOR", value: (c) => c.operator },
                { header: "IMAGES", value: (c) => c.images },
                { header: "STATE", value: (c) => c.rule.state },
                { header: "HOW", value: (c) => c.how },
              ]),
            ];
      if (r.changed) lines.push("", r.written ? `updated ${options.matrix}` : `would update ${options.matrix}; pass --write to write it`);
      return lines.join("\n");
    });
    });
}

export function register(program: Command): void {
  const compat = program
    .command("compat")
    .description("the operator × image compatibility matrix: ConfigMap, checks, tables, image resolution, audit");
  for (const add of [configmapCommand, checkCommand, renderCommand, resolveCommand, auditCommand, coverCommand]) add(compat);
  compat.addHelpText("after", "\nSee docs/compat.md for the matrix format and the rules of evaluation.");
}
