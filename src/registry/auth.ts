// Registry authentication: reading `WWW-Authenticate` challenges, answering
// Basic ones with the host's credential and Bearer ones with a token fetched
// from the challenge's realm for the scopes a request needs. Tokens are cached
// per realm, service and scope set until shortly before they expire.

import { ImagewrightError } from "../errors/index.ts";
import { findCredential, secretsOf, type Credential, type CredentialLookup } from "./credentials.ts";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one `WWW-Authenticate` value, which may hold several challenges. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < header.length && /[\s,]/.test(header[i] ?? "")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i] ?? "")) i++;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip();
    const scheme = token();
    if (scheme === "") break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip();
      const mark = i;
      const key = token();
      while (header[i] === " ") i++;
      if (key === "" || header[i] !== "=") {
        i = mark; // not a parameter: the next challenge's scheme
        break;
      }
      i++;
      while (header[i] === " ") i++;
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === "\\") i++;
          value += header[i] ?? "";
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < header.length && header[i] !== ",") i++;
        value = header.slice(start, i).trim();
      }
      challenge.params[key.toLowerCase()] = value;
    }
  }
  return challenges;
}

/** The scopes a bearer token request asks for, merged: `repository:a:pull` + `repository:a:push` → `repository:a:pull,push`. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const actions = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const single of scope.split(" ")) {
      if (single === "") continue;
      const last = single.lastIndexOf(":");
      const resource = last < 0 ? single : single.slice(0, last);
      const set = actions.get(resource) ?? new Set<string>();
      for (const action of last < 0 ? [] : single.slice(last + 1).split(",")) if (action !== "") set.add(action);
      actions.set(resource, set);
    }
  }
  return [...actions.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([resource, set]) => `${resource}:${[...set].sort().join(",")}`);
}

/** How the auth layer talks HTTP: one GET or POST answered with status and text (retries are the caller's). */
export type TokenExchange = (
  url: URL,
  init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; text: string }>;

interface HostAuth {
  scheme: "basic" | "bearer";
  realm?: string;
  service?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class Authenticator {
  readonly #lookup: CredentialLookup;
  readonly #exchange: TokenExchange;
  readonly #allowsPlainHttp: (host: string) => boolean;
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();
  readonly #hosts = new Map<string, HostAuth>();
  readonly #tokens = new Map<string, { token: Promise<CachedToken>; startedAt: number }>();
  readonly #secrets = new Set<string>();

  constructor(lookup: CredentialLookup, exchange: TokenExchange, allowsPlainHttp: (host: string) => boolean) {
    this.#lookup = lookup;
    this.#exchange = exchange;
    this.#allowsPlainHttp = allowsPlainHttp;
  }

  credential(host: string): Promise<Credential | undefined> {
    let found = this.#credentials.get(host);
    if (found === undefined) {
      found = findCredential(host, this.#lookup).then((credential) => {
        for (const secret of secretsOf(credential)) this.#secrets.add(secret);
        return credential;
      });
      this.#credentials.set(host, found);
    }
    return found;
  }

  /** Replaces every secret this authenticator has seen (passwords, tokens) in `text`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (secret.length >= 3) out = out.split(secret).join("***");
    return out;
  }

  /** The Authorization header for a request to `host` needing `scopes`, once the host's scheme is known. */
  async authorization(host: string, scopes: readonly string[]): Promise<string | undefined> {
    const known = this.#hosts.get(host);
    if (known === undefined) return undefined;
    const credential = await this.credential(host);
    if (known.scheme === "basic") return basicHeader(credential);
    if (credential?.registryToken !== undefined) return `Bearer ${credential.registryToken}`;
    const token = await this.#token(host, known, mergeScopes(scopes), false);
    return `Bearer ${token}`;
  }

  /**
   * Learns from a 401's challenge how `host` authenticates and gets what the
   * next attempt needs (a fresh token for `scopes` plus the challenge's scope).
   * Throws when there is nothing to answer with.
   */
  async challenged(host: string, header: string | undefined, scopes: readonly string[], what: string): Promise<void> {
    const challenges = parseChallenges(header ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    const credential = await this.credential(host);
    if (bearer !== undefined && bearer.params.realm !== undefined) {
      const auth: HostAuth = { scheme: "bearer", realm: bearer.params.realm, ...(bearer.params.service === undefined ? {} : { service: bearer.params.service }) };
      this.#hosts.set(host, auth);
      if (credential?.registryToken !== undefined) return;
      const wanted = mergeScopes([...scopes, ...(bearer.params.scope === undefined ? [] : [bearer.params.scope])]);
      await this.#token(host, auth, wanted, true);
      return;
    }
    if (basic !== undefined) {
      if (credential?.username === undefined || credential.password === undefined) {
        throw needsCredentials(host, what);
      }
      this.#hosts.set(host, { scheme: "basic" });
      return;
    }
    throw new ImagewrightError("unavailable", `${what}: registry ${host} asked for authentication it does not describe (${challenges.map((c) => c.scheme).join(", ") || "no WWW-Authenticate header"})`, {
      input: what,
    });
  }

  /** Forgets a host's tokens, e.g. after the registry refused one that had not expired. */
  forgetTokens(host: string): void {
    for (const key of [...this.#tokens.keys()]) if (key.startsWith(`${host}|`)) this.#tokens.delete(key);
  }

  /** The error for credentials a registry (or its token service) rejected, naming their source and never their value. */
  async rejected(host: string, what: string, detail: string, scopes: readonly string[] = []): Promise<ImagewrightError> {
    const credential = await this.credential(host);
    if (credential === undefined) return needsCredentials(host, what, detail);
    // With a token in hand, a second 401 means the account may not do this, not that the password is wrong.
    const denied = this.#hosts.get(host)?.scheme === "bearer" && scopes.length > 0;
    const message = denied
      ? `${what}: registry ${host} denied ${mergeScopes(scopes).join(" ")} to the credentials from ${credential.source}: ${detail}`
      : `${what}: registry ${host} rejected the credentials from ${credential.source}: ${detail}`;
    return new ImagewrightError("invalid-input", this.redact(message), {
      input: `credentials for ${host} from ${credential.source}`,
      hint: denied ? "the account lacks permission for this repository and action" : "check the user name and password (they are not shown here)",
    });
  }

  async #token(host: string, auth: HostAuth, scopes: readonly string[], fresh: boolean): Promise<string> {
    const key = `${host}|${auth.realm ?? ""}|${auth.service ?? ""}|${scopes.join(" ")}`;
    const cached = this.#tokens.get(key);
    // Parallel requests that meet the same challenge share one token request instead of each fetching their own.
    const sameWave = cached !== undefined && Date.now() - cached.startedAt < 2_000;
    if (cached !== undefined && (!fresh || sameWave)) {
      const token = await cached.token.catch(() => undefined);
      if (token !== undefined && token.expiresAt > Date.now()) return token.token;
    }
    const entry = { token: this.#fetchToken(host, auth, scopes), startedAt: Date.now() };
    this.#tokens.set(key, entry);
    entry.token.catch(() => {
      if (this.#tokens.get(key) === entry) this.#tokens.delete(key);
    });
    return (await entry.token).token;
  }

  async #fetchToken(host: string, auth: HostAuth, scopes: readonly string[]): Promise<CachedToken> {
    const what = `token for ${host}`;
    let realm: URL;
    try {
      realm = new URL(auth.realm ?? "");
    } catch (cause) {
      throw new ImagewrightError("invalid-input", `registry ${host} named a token realm that is not a URL: "${auth.realm ?? ""}"`, { input: what, cause });
    }
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && this.#allowsPlainHttp(realm.host))) {
      throw new ImagewrightError("invalid-input", `registry ${host} sends credentials to ${realm.origin}, which is neither HTTPS nor a loopback or insecure-listed host`, {
        input: what,
        hint: "add the token service host to IMAGEWRIGHT_INSECURE_REGISTRIES if plain HTTP is really intended",
      });
    }
    const credential = await this.credential(host);
    const headers: Record<string, string> = { accept: "application/json" };
    let answer: { status: number; text: string };
    if (credential?.identityToken !== undefined) {
      // OAuth2 refresh-token grant, as Docker does for identity tokens.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credential.identityToken, client_id: "imagewright" });
      if (auth.service !== undefined) form.set("service", auth.service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      headers["content-type"] = "application/x-www-form-urlencoded";
      answer = await this.#exchange(realm, { method: "POST", headers, body: form.toString() });
    } else {
      const url = new URL(realm);
      if (auth.service !== undefined) url.searchParams.set("service", auth.service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      const basic = basicHeader(credential);
      if (basic !== undefined) headers.authorization = basic;
      answer = await this.#exchange(url, { method: "GET", headers });
    }
    if (answer.status === 401 || answer.status === 403) {
      throw await this.rejected(host, what, `token service ${realm.origin} answered HTTP ${answer.status}`);
    }
    if (answer.status !== 200) {
      throw new ImagewrightError(answer.status >= 500 || answer.status === 429 ? "unavailable" : "invalid-input", this.redact(`${what}: token service ${realm.origin} answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`), { input: what });
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch (cause) {
      throw new ImagewrightError("invalid-input", `${what}: token service ${realm.origin} answered something that is not JSON`, { input: what, cause });
    }
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : undefined;
    if (token === undefined || token === "") {
      throw new ImagewrightError("invalid-input", `${what}: token service ${realm.origin} answered without a token`, { input: what });
    }
    this.#secrets.add(token);
    // The spec's default lifetime is 60 s; renew 10 s early so a token never expires in flight.
    const lifetime = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expiresAt: Date.now() + Math.max(1, lifetime - 10) * 1000 };
  }
}

function basicHeader(credential: Credential | undefined): string | undefined {
  if (credential?.username === undefined || credential.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}

function needsCredentials(host: string, what: string, detail?: string): ImagewrightError {
  return new ImagewrightError("invalid-input", `${what}: registry ${host} needs credentials and none were found${detail === undefined ? "" : ` (${detail})`}`, {
    input: `credentials for ${host}`,
    hint: `run \`docker login ${host}\` or set IMAGEWRIGHT_REGISTRY_USERNAME and IMAGEWRIGHT_REGISTRY_PASSWORD (see docs/registry.md)`,
  });
}
