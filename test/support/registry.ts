// Real Distribution registries for tests (Debian's docker-registry), started on
// 127.0.0.1 in a fresh directory: without auth, with htpasswd basic auth, or with
// token auth answered by a JWT issuer running in the test process. Also a proxy
// in front of a registry that counts bytes and injects faults.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Where Debian installs the registry (Distribution 2.8); IMAGEWRIGHT_DOCKER_REGISTRY overrides it. */
export const REGISTRY_BINARY = process.env.IMAGEWRIGHT_DOCKER_REGISTRY ?? "/usr/bin/docker-registry";

/**
 * Distribution v3, built from the Go module proxy by stack/tools.sh into
 * $IMAGEWRIGHT_TOOLS/bin. Tests that need what 2.8 lacks (tag pagination, tag
 * deletion) run against it; IMAGEWRIGHT_DISTRIBUTION3 overrides the path.
 */
export const DISTRIBUTION3_BINARY =
  process.env.IMAGEWRIGHT_DISTRIBUTION3 ??
  join(process.env.IMAGEWRIGHT_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "imagewright", "tools"), "bin", "registry");

export type RegistryAuthMode = "none" | "htpasswd" | "token";

export interface RegistryOptions {
  /** The calling test's own port range, inclusive (each helper has one; see its brief). */
  ports: readonly [number, number];
  auth?: RegistryAuthMode;
  /** Users for htpasswd and token auth. Default: one user `imagewright` with a random password. */
  users?: Readonly<Record<string, string>>;
  /** Token auth only: which of the requested actions a user gets. Default: all for known users, none for anonymous. */
  grant?: (user: string | undefined, scope: TokenScope) => string[];
  /** Token auth only: OAuth2 refresh tokens (Docker's identity tokens) the issuer accepts, each for a user. */
  refreshTokens?: Readonly<Record<string, string>>;
  /** Distribution's storage.delete.enabled. Default true. */
  deleteEnabled?: boolean;
  /** Debian's Distribution 2.8 (default) or Distribution v3 from stack/tools.sh. */
  implementation?: "distribution-2.8" | "distribution-3";
}

export interface TokenScope {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequest {
  user: string | undefined;
  service: string | undefined;
  scopes: string[];
  /** Whether the issuer handed out a token (false: wrong credentials). */
  granted: boolean;
  /** `refresh_token` for the OAuth2 POST form; absent for the Basic-auth GET. */
  grantType?: string;
}

export interface TestRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, as references name it. */
  host: string;
  port: number;
  /** Temp directory holding config, storage and log. */
  dir: string;
  auth: RegistryAuthMode;
  users: Readonly<Record<string, string>>;
  /** Token auth only: every request the issuer answered, in order. */
  tokenRequests: TokenRequest[];
  /** Stops the registry process, keeping its storage (for "registry went away" faults). */
  kill(): Promise<void>;
  /** Starts the registry again on the same port with the same storage. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops everything and deletes the directory. Safe to call twice. */
  stop(): Promise<void>;
  /** The registry's log so far, for failure messages. */
  log(): Promise<string>;
}

const running = new Set<ChildProcess>();
const directories = new Set<string>();
let exitHookInstalled = false;

/** A test that dies before its `after` still leaves no registry or directory behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = (): void => {
    for (const child of running) child.kill("SIGKILL");
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  // A test process stopped by a signal (the runner's timeout, Ctrl-C) skips "exit": clean up, then die of the same signal.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

function run(program: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${program} ${args[0] ?? ""} failed: ${stderr || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

function shuffledPorts(range: readonly [number, number]): number[] {
  const [from, to] = range;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from > 0 && to >= from && to < 65536)) {
    throw new Error(`port range ${from}-${to} is not a range of ports`);
  }
  const ports = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ports[i], ports[j]] = [ports[j]!, ports[i]!];
  }
  return ports;
}

/** Listens on the first free port of the range (trying them in random order, so parallel tests rarely collide). */
export async function listenInRange(server: Server, range: readonly [number, number]): Promise<number> {
  for (const port of shuffledPorts(range)) {
    const ok = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        server.off("listening", onListening);
        if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
        else reject(error);
      };
      const onListening = (): void => {
        server.off("error", onError);
        resolve(true);
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, "127.0.0.1");
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${range[0]}-${range[1]}`);
}

async function freePort(range: readonly [number, number]): Promise<number> {
  const probe = createServer();
  const port = await listenInRange(probe, range);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts a real registry; the test must `await registry.stop()` in `after` (a process exit hook backs that up). */
export async function startRegistry(options: RegistryOptions): Promise<TestRegistry> {
  const binary = options.implementation === "distribution-3" ? DISTRIBUTION3_BINARY : REGISTRY_BINARY;
  if (!existsSync(binary)) {
    throw new Error(
      options.implementation === "distribution-3"
        ? `${binary} is missing: build Distribution v3 with bash stack/tools.sh`
        : `${binary} is missing: install Debian's docker-registry package (bash stack/up.sh does)`,
    );
  }
  installExitHook();
  const auth = options.auth ?? "none";
  const users = options.users ?? { imagewright: `pw-${randomBytes(9).toString("base64url")}` };
  const dir = await mkdtemp(join(tmpdir(), "imagewright-registry-"));
  directories.add(dir);
  const tokenRequests: TokenRequest[] = [];
  let issuer: Server | undefined;
  let child: ChildProcess | undefined;
  let port = 0;
  let stopped = false;

  try {
    let authYaml = "";
    if (auth === "htpasswd") {
      const lines: string[] = [];
      for (const [user, password] of Object.entries(users)) lines.push((await run("htpasswd", ["-Bbn", user, password])).trim());
      await writeFile(join(dir, "htpasswd"), lines.join("\n") + "\n");
      authYaml = `auth:\n  htpasswd:\n    realm: imagewright-test\n    path: ${join(dir, "htpasswd")}\n`;
    } else if (auth === "token") {
      const keyFile = join(dir, "token-key.pem");
      const certFile = join(dir, "token-cert.pem");
      await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=imagewright-test-token-issuer"]);
      const key = createPrivateKey(await readFile(keyFile));
      const certificate = new X509Certificate(await readFile(certFile));
      issuer = createServer((req, res) => {
        if (req.method === "POST") {
          // The OAuth2 refresh-token grant: the form body carries the scope and the refresh token.
          let body = "";
          req.setEncoding("utf8");
          req.on("data", (chunk: string) => (body += chunk));
          req.on("end", () => {
            const form = new URLSearchParams(body);
            const user = options.refreshTokens?.[form.get("refresh_token") ?? ""];
            const url = new URL("/token", "http://issuer");
            for (const key of ["service", "scope"]) if (form.get(key) !== null) url.searchParams.set(key, form.get(key)!);
            const headers = user === undefined ? { authorization: "Basic invalid" } : { authorization: `Basic ${Buffer.from(`${user}:${users[user] ?? ""}`).toString("base64")}` };
            answerTokenRequest(url.pathname + url.search, headers, users, options.grant, key, certificate, tokenRequests, res, form.get("grant_type") ?? undefined);
          });
          return;
        }
        answerTokenRequest(req.url ?? "/", req.headers, users, options.grant, key, certificate, tokenRequests, res);
      });
      const issuerPort = await listenInRange(issuer, options.ports);
      authYaml = [
        "auth:",
        "  token:",
        `    realm: http://127.0.0.1:${issuerPort}/token`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${certFile}`,
        "",
      ].join("\n");
    }
    const secret = randomBytes(16).toString("hex");
    const configFor = (p: number): string =>
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${join(dir, "data")}`,
        "  delete:",
        `    enabled: ${options.deleteEnabled ?? true}`,
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "http:",
        `  addr: 127.0.0.1:${p}`,
        // A fixed secret, as every multi-instance deployment has: upload sessions survive a restart.
        `  secret: ${secret}`,
        authYaml,
      ].join("\n");

    const launch = async (): Promise<void> => {
      await writeFile(join(dir, "config.yml"), configFor(port));
      const logFile = join(dir, "registry.log");
      const fd = openSync(logFile, "a");
      const process_ = spawn(binary, ["serve", join(dir, "config.yml")], { stdio: ["ignore", fd, fd] });
      closeSync(fd);
      running.add(process_);
      child = process_;
      let exited = false;
      process_.once("exit", () => {
        exited = true;
        running.delete(process_);
      });
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (exited) throw new Error(`registry exited while starting:\n${await readFile(logFile, "utf8")}`);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/v2/`);
          await response.arrayBuffer();
          if (response.status === 200 || response.status === 401) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`registry on 127.0.0.1:${port} not ready within 20 s:\n${await readFile(logFile, "utf8")}`);
        await sleep(25);
      }
    };

    const kill = async (): Promise<void> => {
      const current = child;
      child = undefined;
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
      current.kill("SIGTERM");
      const timer = setTimeout(() => current.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    };

    // Another test may take the probed port before the registry binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort(options.ports);
      try {
        await launch();
        break;
      } catch (error) {
        await kill();
        const log = await readFile(join(dir, "registry.log"), "utf8").catch(() => "");
        if (attempt >= 5 || !log.includes("address already in use")) throw error;
      }
    }

    const registry: TestRegistry = {
      url: `http://127.0.0.1:${port}`,
      host: `127.0.0.1:${port}`,
      port,
      dir,
      auth,
      users,
      tokenRequests,
      kill,
      start: launch,
      restart: async () => {
        await kill();
        await launch();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await kill();
        if (issuer !== undefined) await closeServer(issuer);
        await rm(dir, { recursive: true, force: true });
        directories.delete(dir);
      },
      log: () => readFile(join(dir, "registry.log"), "utf8").catch(() => ""),
    };
    return registry;
  } catch (error) {
    if (child !== undefined) child.kill("SIGKILL");
    if (issuer !== undefined) await closeServer(issuer);
    await rm(dir, { recursive: true, force: true });
    directories.delete(dir);
    throw error;
  }
}

const TOKEN_SERVICE = "imagewright-test-registry";
const TOKEN_ISSUER = "imagewright-test-issuer";

function parseScope(scope: string): TokenScope | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").filter((a) => a !== "") };
}

/** The token service: checks Basic credentials, grants per `grant`, signs an RS256 JWT with the certificate in `x5c`. */
function answerTokenRequest(
  path: string,
  headers: IncomingHttpHeaders,
  users: Readonly<Record<string, string>>,
  grant: RegistryOptions["grant"],
  key: KeyObject,
  certificate: X509Certificate,
  log: TokenRequest[],
  res: ServerResponse,
  grantType?: string,
): void {
  const url = new URL(path, "http://issuer");
  const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "");
  const service = url.searchParams.get("service") ?? undefined;
  let user: string | undefined;
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const decoded = authorization.startsWith("Basic ") ? Buffer.from(authorization.slice(6), "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    const name = decoded.slice(0, colon);
    if (colon < 0 || users[name] === undefined || users[name] !== decoded.slice(colon + 1)) {
      log.push({ user: colon < 0 ? undefined : name, service, scopes, granted: false, ...(grantType === undefined ? {} : { grantType }) });
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="imagewright-test-issuer"' });
      res.end(JSON.stringify({ details: "wrong user name or password" }));
      return;
    }
    user = name;
  }
  log.push({ user, service, scopes, granted: true, ...(grantType === undefined ? {} : { grantType }) });
  const decide = grant ?? ((who: string | undefined, scope: TokenScope) => (who === undefined ? [] : scope.actions));
  const access = scopes
    .map(parseScope)
    .filter((s): s is TokenScope => s !== undefined)
    .map((scope) => ({ type: scope.type, name: scope.name, actions: decide(user, scope) }));
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const head = encode({ typ: "JWT", alg: "RS256", x5c: [certificate.raw.toString("base64")] });
  const claims = encode({
    iss: TOKEN_ISSUER,
    sub: user ?? "",
    aud: service ?? TOKEN_SERVICE,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(12).toString("hex"),
    access,
  });
  const signature = sign("sha256", Buffer.from(`${head}.${claims}`), key).toString("base64url");
  const token = `${head}.${claims}.${signature}`;
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
}

export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. `/v2/org/kafka/blobs/sha256:…`. */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface FaultRule {
  match: (request: ProxiedRequest) => boolean;
  /** Answer this instead of forwarding to the registry. */
  respond?: { status: number; headers?: Record<string, string>; body?: string };
  /** Forward, but flip the bits of one byte in the middle of the response body. */
  corrupt?: boolean;
  /** Forward, but drop the connection after this many response body bytes. */
  cutAfter?: number;
  /** Forward only this many request body bytes to the registry, then drop both connections (an upload cut off mid-way). */
  cutRequestAfter?: number;
  /** How many matching requests the rule applies to; default every one. */
  times?: number;
  /** Runs (and is awaited) before the request is answered or forwarded, e.g. to stop the registry mid-push. */
  before?: () => Promise<void>;
}

export interface ProxyRecord {
  method: string;
  path: string;
  status: number;
  /** Request body bytes the client sent through the proxy. */
  requestBytes: number;
  responseBytes: number;
  /** Which fault was applied, if any. */
  fault?: "respond" | "corrupt" | "cut" | "cut-request";
  /** Whether the request carried an Authorization header (its value is never recorded). */
  authorized: boolean;
}

export interface RegistryProxy {
  url: string;
  /** `127.0.0.1:<port>`: use this host instead of the registry's to go through the proxy. */
  host: string;
  port: number;
  /** Rules are tried in order; edit the array to change faults between steps. */
  rules: FaultRule[];
  records: ProxyRecord[];
  /** Request body bytes of PATCH/PUT/POST requests: what a client uploaded. */
  uploadedBytes(): number;
  close(): Promise<void>;
}

/** A proxy on the caller's port range in front of `target` (a registry), counting bytes and applying fault rules. */
export async function startRegistryProxy(target: { port: number }, ports: readonly [number, number], rules: FaultRule[] = []): Promise<RegistryProxy> {
  const records: ProxyRecord[] = [];
  const used = new Map<FaultRule, number>();
  const server = createServer((req, res) => {
    const request: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    const rule = proxy.rules.find((r) => (r.times === undefined || (used.get(r) ?? 0) < r.times) && r.match(request));
    if (rule !== undefined) used.set(rule, (used.get(rule) ?? 0) + 1);
    if (rule?.before !== undefined) {
      req.pause();
      rule.before().then(
        () => forward(req, res, request, rule),
        (error: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`test proxy hook failed: ${String(error)}`);
        },
      );
      return;
    }
    forward(req, res, request, rule);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, request: ProxiedRequest, rule: FaultRule | undefined): void => {
    const record: ProxyRecord = { method: request.method, path: request.path, status: 0, requestBytes: 0, responseBytes: 0, authorized: request.headers.authorization !== undefined };
    records.push(record);
    if (rule?.respond !== undefined) {
      const answer = rule.respond;
      record.fault = "respond";
      record.status = answer.status;
      req.on("data", (chunk: Buffer) => (record.requestBytes += chunk.length));
      req.on("end", () => {
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(answer.body ?? "");
      });
      req.resume();
      return;
    }
    // The Host header passes through unchanged, so the registry's upload Locations point back at the proxy.
    const upstream = httpRequest({ host: "127.0.0.1", port: target.port, method: request.method, path: request.path, headers: req.headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.flushHeaders();
      const length = Number(answer.headers["content-length"] ?? NaN);
      const middle = Number.isFinite(length) && length > 0 ? Math.floor(length / 2) : 0;
      answer.on("data", (chunk: Buffer) => {
        let out = chunk;
        if (rule?.corrupt === true && middle >= record.responseBytes && middle < record.responseBytes + chunk.length) {
          out = Buffer.from(chunk);
          const at = middle - record.responseBytes;
          out[at] = (out[at] ?? 0) ^ 0xff;
          record.fault = "corrupt";
        }
        if (rule?.cutAfter !== undefined && record.responseBytes + chunk.length > rule.cutAfter) {
          res.write(out.subarray(0, Math.max(0, rule.cutAfter - record.responseBytes)));
          record.responseBytes = rule.cutAfter;
          record.fault = "cut";
          answer.destroy();
          // Let the status line and the first bytes arrive first: this is a body cut short, not a refused request.
          setTimeout(() => res.destroy(), 50);
          return;
        }
        record.responseBytes += chunk.length;
        res.write(out);
      });
      answer.on("end", () => res.end());
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", () => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("registry unreachable behind the test proxy");
    });
    const limit = rule?.cutRequestAfter;
    if (limit === undefined) {
      req.on("data", (chunk: Buffer) => (record.requestBytes += chunk.length));
      req.pipe(upstream);
      return;
    }
    req.on("data", (chunk: Buffer) => {
      if (record.fault === "cut-request") return;
      const room = limit - record.requestBytes;
      if (chunk.length < room) {
        record.requestBytes += chunk.length;
        upstream.write(chunk);
        return;
      }
      record.requestBytes = limit;
      record.fault = "cut-request";
      upstream.write(chunk.subarray(0, room), () => {
        // Give the registry a moment to take the bytes it was sent, then hang up on both sides.
        setTimeout(() => {
          upstream.destroy();
          req.destroy();
          res.destroy();
        }, 50);
      });
    });
    req.on("end", () => upstream.end());
  };
  const port = await listenInRange(server, ports);
  const proxy: RegistryProxy = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    rules,
    records,
    uploadedBytes: () => records.filter((r) => r.method === "PATCH" || r.method === "PUT" || r.method === "POST").reduce((sum, r) => sum + r.requestBytes, 0),
    close: () => closeServer(server),
  };
  return proxy;
}
