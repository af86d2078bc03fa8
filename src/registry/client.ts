// The HTTP side of the OCI distribution API: one pooled undici Agent per
// client, authentication, redirects, and bounded retries for requests that are
// safe to repeat. Repositories (./repository.ts) build on `send`.

import type { IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent } from "undici";
import { ImagewrightError } from "../errors/index.ts";
import { Authenticator } from "./auth.ts";
import type { CredentialLookup } from "./credentials.ts";
import { registryError } from "./errors.ts";
import { jsonErrorPlace } from "./json.ts";
import { checkHost, checkRepositoryName } from "./names.ts";
import { backoffMs, DEFAULT_RETRY_POLICY, isRetryableError, isRetryableStatus, retryAfterMs, type RetryPolicy } from "./retry.ts";
import { RegistryRepository } from "./repository.ts";

export interface RegistryClientOptions extends CredentialLookup {
  /** Hosts reached over plain HTTP besides loopback ones; IMAGEWRIGHT_INSECURE_REGISTRIES adds more. */
  insecure?: readonly string[];
  retry?: Partial<RetryPolicy>;
  /** Blobs up to this size go up in one PUT (held in memory); larger ones stream in a PATCH. Default 1 MiB. */
  monolithicLimit?: number;
  /** Bytes of a streamed upload kept to resume it after a failure. Default 16 MiB. */
  resumeWindow?: number;
  /** Largest manifest accepted from a registry. Default 4 MiB. */
  manifestLimit?: number;
  /** Page size asked for when listing tags and the catalog. Default 1000. */
  pageSize?: number;
  /** Parallel connections per registry. Default 16. */
  connections?: number;
  userAgent?: string;
}

export type HttpMethod = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";

export interface RegistryRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes, or a one-pass stream (never re-sent: no retries, no answer to a 401 challenge). */
  body?: Uint8Array | string | Readable;
  /** Token scopes the request needs, e.g. `repository:org/kafka:pull`. */
  scopes: readonly string[];
  /** The request in the user's words, for errors: `manifest 127.0.0.1:5000/org/kafka:3.7.0`. */
  what: string;
  /** Safe to send again after a 429, 5xx or dropped connection. */
  retry: boolean;
  /** Follow 3xx (blob downloads may be redirected to storage). */
  followRedirects?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable & { dump(): Promise<void>; text(): Promise<string> };
  /** Where the answer came from after redirects; relative `Location`s resolve against it. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MIB = 1024 * 1024;

export class RegistryClient {
  readonly retry: RetryPolicy;
  readonly monolithicLimit: number;
  readonly resumeWindow: number;
  readonly manifestLimit: number;
  readonly pageSize: number;
  readonly auth: Authenticator;
  readonly #agent: Agent;
  readonly #insecure: ReadonlySet<string>;
  readonly #userAgent: string;

  constructor(options: RegistryClientOptions = {}) {
    const env = options.env ?? process.env;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.monolithicLimit = options.monolithicLimit ?? MIB;
    this.resumeWindow = options.resumeWindow ?? 16 * MIB;
    this.manifestLimit = options.manifestLimit ?? 4 * MIB;
    this.pageSize = options.pageSize ?? 1000;
    const fromEnv = (env.IMAGEWRIGHT_INSECURE_REGISTRIES ?? "").split(",").map((h) => h.trim()).filter((h) => h !== "");
    this.#insecure = new Set([...(options.insecure ?? []), ...fromEnv]);
    this.#userAgent = options.userAgent ?? "imagewright/0.1";
    this.#agent = new Agent({ connections: options.connections ?? 16, keepAliveTimeout: 30_000 });
    this.auth = new Authenticator(options, (url, init) => this.#exchange(url, init), (host) => this.allowsPlainHttp(host));
  }

  /** One repository of one registry, as an ImageStore. */
  repository(host: string, name: string): RegistryRepository {
    return new RegistryRepository(this, checkHost(host), checkRepositoryName(name));
  }

  /** Plain HTTP only for loopback and for hosts the user named as insecure. */
  allowsPlainHttp(host: string): boolean {
    if (this.#insecure.has(host)) return true;
    const bare = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
    return bare === "localhost" || bare === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || this.#insecure.has(bare);
  }

  /** The `/v2/` base of a registry; Docker Hub's API lives on registry-1.docker.io. */
  base(host: string): URL {
    const apiHost = host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host;
    return new URL(`${this.allowsPlainHttp(apiHost) ? "http" : "https"}://${apiHost}/v2/`);
  }

  /** Repository names in the registry's catalog, following pagination. */
  async catalog(host: string): Promise<string[]> {
    checkHost(host);
    const first = new URL(`_catalog?n=${this.pageSize}`, this.base(host));
    return this.pages(host, first, "repositories", ["registry:catalog:*"], `catalog of ${host}`);
  }

  /** Follows `Link: <…>; rel="next"` pages of a JSON list (`tags`, `repositories`). */
  async pages(host: string, first: URL, field: string, scopes: readonly string[], what: string): Promise<string[]> {
    const all: string[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = first;
    while (url !== undefined) {
      if (seen.has(url.href)) break; // a registry whose Link points back at a page already read
      seen.add(url.href);
      const response = await this.send({ method: "GET", url, scopes, what, retry: true, headers: { accept: "application/json" } });
      if (response.status !== 200) throw await this.failure(response, what);
      const text = await readText(response.body, this.manifestLimit, what);
      let page: Record<string, unknown>;
      try {
        page = JSON.parse(text) as Record<string, unknown>;
      } catch (cause) {
        throw new ImagewrightError("invalid-input", `${what}: registry answered a page that is not JSON`, { input: what, place: jsonErrorPlace(text), cause });
      }
      const items = page[field];
      if (items !== null && items !== undefined && !(Array.isArray(items) && items.every((item) => typeof item === "string"))) {
        throw new ImagewrightError("invalid-input", `${what}: registry answered a page whose "${field}" is not a list of strings`, { input: what, place: `$.${field}` });
      }
      all.push(...((items) ?? []));
      const next = nextLink(header(response.headers, "link"));
      url = next === undefined ? undefined : new URL(next, url);
    }
    return all;
  }

  /**
   * Sends one request: adds authorization, answers 401 challenges once,
   * follows redirects when asked, and retries retryable requests with backoff.
   * Returns any other answer for the caller to judge (and to consume its body).
   */
  async send(request: RegistryRequest): Promise<RegistryResponse> {
    const host = request.url.host;
    let url = request.url;
    let attempt = 0;
    let answeredChallenge = false;
    let redirects = 0;
    for (;;) {
      attempt++;
      const headers: Record<string, string> = { "user-agent": this.#userAgent, ...request.headers };
      // Credentials go only to the registry itself, never to a storage backend it redirects to.
      if (url.host === host) {
        const authorization = await this.auth.authorization(host, request.scopes);
        if (authorization !== undefined) headers.authorization = authorization;
      }
      let response;
      try {
        response = await this.#agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: request.method,
          headers,
          body: request.body === undefined ? null : request.body,
          // Larger response buffers mean fewer socket pauses on big blobs (undici's default is 64 KiB).
          highWaterMark: 1 << 20,
        });
      } catch (error) {
        const replayable = !(request.body instanceof Readable);
        if (request.retry && replayable && isRetryableError(error) && attempt < this.retry.attempts) {
          await sleep(backoffMs(this.retry, attempt));
          continue;
        }
        throw this.unreachable(request, host, attempt, describeNetworkError(error), error);
      }
      const status = response.statusCode;
      const body = response.body as RegistryResponse["body"];
      const replayable = !(request.body instanceof Readable);
      if (status === 401 && url.host === host && replayable) {
        const challenge = header(response.headers, "www-authenticate");
        const text = await readText(body, 64 * 1024, request.what).catch(() => "");
        if (answeredChallenge) {
          this.auth.forgetTokens(host);
          throw await this.auth.rejected(host, request.what, summary(text, status), request.scopes);
        }
        answeredChallenge = true;
        attempt--;
        await this.auth.challenged(host, challenge, request.scopes, request.what);
        continue;
      }
      const location = header(response.headers, "location");
      if (request.followRedirects === true && REDIRECTS.has(status) && location !== undefined) {
        await body.dump();
        if (++redirects > 5) throw new ImagewrightError("unavailable", `${request.what}: more than 5 redirects from ${host}`, { input: request.what });
        url = new URL(location, url);
        attempt--;
        continue;
      }
      if (request.retry && replayable && isRetryableStatus(status)) {
        const asked = retryAfterMs(header(response.headers, "retry-after"));
        const text = await readText(body, 64 * 1024, request.what).catch(() => "");
        if (asked !== undefined && asked > this.retry.maxRetryAfterMs) {
          throw new ImagewrightError("unavailable", this.auth.redact(`${request.what}: registry ${host} asked to wait ${Math.ceil(asked / 1000)} s (HTTP ${status}), longer than the ${this.retry.maxRetryAfterMs / 1000} s we wait`), {
            input: request.what,
            hint: "try again later",
          });
        }
        if (attempt < this.retry.attempts) {
          await sleep(asked ?? backoffMs(this.retry, attempt));
          continue;
        }
        throw this.unreachable(request, host, attempt, summary(text, status));
      }
      return { status, headers: response.headers, body, url };
    }
  }

  /** The error for an answer the caller did not expect; reads (and so releases) the body. */
  async failure(response: RegistryResponse, what: string, hint?: string): Promise<ImagewrightError> {
    const text = await readText(response.body, 64 * 1024, what).catch(() => "");
    return registryError(what, response.status, text, (t) => this.auth.redact(t), hint);
  }

  /** Closes pooled connections; the client is unusable afterwards. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  unreachable(request: Pick<RegistryRequest, "what">, host: string, attempts: number, detail: string, cause?: unknown): ImagewrightError {
    return new ImagewrightError(
      "unavailable",
      this.auth.redact(`${request.what}: registry ${host} is unavailable after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${detail}`),
      { input: request.what, hint: `check that ${host} is up and reachable, then run the command again`, ...(cause === undefined ? {} : { cause }) },
    );
  }

  async #exchange(url: URL, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string }): Promise<{ status: number; text: string }> {
    const what = `token from ${url.origin}`;
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const response = await this.#agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: init.method,
          headers: { "user-agent": this.#userAgent, ...init.headers },
          body: init.body ?? null,
        });
        if (isRetryableStatus(response.statusCode) && attempt < this.retry.attempts) {
          const asked = retryAfterMs(header(response.headers, "retry-after"));
          await response.body.dump();
          await sleep(Math.min(asked ?? backoffMs(this.retry, attempt), this.retry.maxRetryAfterMs));
          continue;
        }
        return { status: response.statusCode, text: await readText(response.body, 1024 * 1024, what) };
      } catch (error) {
        if (isRetryableError(error) && attempt < this.retry.attempts) {
          await sleep(backoffMs(this.retry, attempt));
          continue;
        }
        if (error instanceof ImagewrightError) throw error;
        throw this.unreachable({ what }, url.host, attempt, describeNetworkError(error), error);
      }
    }
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a body as text, refusing more than `limit` bytes (then the connection is dropped, not drained). */
export async function readText(body: Readable, limit: number, what: string): Promise<string> {
  return Buffer.from(await readBytes(body, limit, what)).toString("utf8");
}

export async function readBytes(body: Readable, limit: number, what: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      discard(body);
      throw new ImagewrightError("invalid-input", `${what} is larger than the ${limit} bytes allowed`, {
        input: what,
        place: `byte ${limit}`,
        hint: "a manifest this large is almost certainly not one; raise manifestLimit only if you trust the registry",
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Drops a body we will not read: the connection closes instead of draining it, and the abort is not an error. */
export function discard(body: Readable): void {
  body.on("error", () => undefined);
  body.destroy();
}

function nextLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]*)>\s*;\s*(?:[^;]*;\s*)*rel="?next"?/.exec(part);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

function summary(text: string, status: number): string {
  const first = text.trim().split("\n")[0]?.slice(0, 200);
  return first === undefined || first === "" ? `HTTP ${status}` : `HTTP ${status}: ${first}`;
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Runs `work` with a client that is closed afterwards: pooled keep-alive
 * connections would otherwise hold a short command's process open.
 */
export async function withRegistryClient<T>(work: (client: RegistryClient) => Promise<T>, options?: RegistryClientOptions): Promise<T> {
  const client = new RegistryClient(options);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
