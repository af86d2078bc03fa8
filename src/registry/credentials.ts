// Where registry credentials come from, in order: the caller, environment
// variables, then Docker's config.json (credHelpers, credsStore, auths). Each
// credential remembers its source so errors can say which one was rejected
// without ever showing the secret.

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ImagewrightError } from "../errors/index.ts";
import { jsonErrorPlace } from "./json.ts";

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token service. */
  identityToken?: string;
  /** A bearer token sent as-is (Docker's `registrytoken`). */
  registryToken?: string;
  /** Where it came from, for messages: `IMAGEWRIGHT_REGISTRY_PASSWORD`, `~/.docker/config.json auths`. */
  source: string;
}

export interface CredentialLookup {
  /** Explicit credentials per host; they win over every other source. */
  credentials?: Readonly<Record<string, Omit<Credential, "source">>>;
  env?: NodeJS.ProcessEnv;
  /** Path to a Docker config.json; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  dockerConfig?: string;
}

/** `registry.example.com:5000` → `REGISTRY_EXAMPLE_COM_5000`, the per-host part of variable names. */
export function hostVariable(host: string): string {
  return host.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

export async function findCredential(apiHost: string, lookup: CredentialLookup = {}): Promise<Credential | undefined> {
  // Requests go to Docker Hub's API host; people and config.json call it docker.io.
  const host = apiHost === "registry-1.docker.io" || apiHost === "index.docker.io" ? "docker.io" : apiHost;
  const explicit = lookup.credentials?.[host];
  if (explicit !== undefined) return { ...explicit, source: "the caller's credentials" };
  const env = lookup.env ?? process.env;
  const fromEnv = credentialFromEnv(host, env);
  if (fromEnv !== undefined) return fromEnv;
  return credentialFromDockerConfig(host, lookup.dockerConfig ?? dockerConfigPath(env), env);
}

function credentialFromEnv(host: string, env: NodeJS.ProcessEnv): Credential | undefined {
  const prefix = `IMAGEWRIGHT_REGISTRY_${hostVariable(host)}`;
  const username = env[`${prefix}_USERNAME`];
  const password = env[`${prefix}_PASSWORD`];
  if (username !== undefined && password !== undefined) {
    return { username, password, source: `${prefix}_USERNAME/_PASSWORD` };
  }
  // The unscoped pair applies to every registry unless IMAGEWRIGHT_REGISTRY_HOST narrows it to one.
  const only = env.IMAGEWRIGHT_REGISTRY_HOST;
  const generalUser = env.IMAGEWRIGHT_REGISTRY_USERNAME;
  const generalPassword = env.IMAGEWRIGHT_REGISTRY_PASSWORD;
  if (generalUser !== undefined && generalPassword !== undefined && (only === undefined || only === "" || only === host)) {
    return { username: generalUser, password: generalPassword, source: "IMAGEWRIGHT_REGISTRY_USERNAME/_PASSWORD" };
  }
  return undefined;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(env.HOME ?? homedir(), ".docker");
  return join(dir, "config.json");
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

async function credentialFromDockerConfig(host: string, path: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ImagewrightError("unavailable", `cannot read Docker config ${path}: ${(error as Error).message}`, { input: path, cause: error });
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (error) {
    throw new ImagewrightError("invalid-input", `Docker config ${path} is not valid JSON`, { input: path, place: jsonErrorPlace(text), cause: error });
  }
  if (typeof config !== "object" || config === null) {
    throw new ImagewrightError("invalid-input", `Docker config ${path} is not a JSON object`, { input: path, place: "$" });
  }
  const helper = config.credHelpers?.[host];
  if (typeof helper === "string" && helper !== "") return credentialFromHelper(helper, host, `${path} credHelpers`, env);
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    const stored = await credentialFromHelper(config.credsStore, host, `${path} credsStore`, env);
    if (stored !== undefined) return stored;
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (authsKeyHost(key) !== host || typeof entry !== "object" || entry === null) continue;
    const source = `${path} auths["${key}"]`;
    if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
      return { identityToken: entry.identitytoken, source };
    }
    if (typeof entry.registrytoken === "string" && entry.registrytoken !== "") {
      return { registryToken: entry.registrytoken, source };
    }
    if (typeof entry.auth === "string" && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) {
        throw new ImagewrightError("invalid-input", `${source}.auth is not base64 of "user:password"`, {
          input: path,
          place: `$.auths["${key}"].auth`,
        });
      }
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (typeof entry.username === "string" && typeof entry.password === "string") {
      return { username: entry.username, password: entry.password, source };
    }
  }
  return undefined;
}

/** `https://index.docker.io/v1/`, `http://host:5000`, `host:5000/v2/` → the host part Docker matches on. */
function authsKeyHost(key: string): string {
  const withoutScheme = key.replace(/^[a-z]+:\/\//i, "");
  const host = withoutScheme.split("/")[0] ?? "";
  return host === "index.docker.io" ? "docker.io" : host;
}

/** Runs `docker-credential-<helper> get` with the host on stdin, as Docker does. */
function credentialFromHelper(helper: string, host: string, source: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new ImagewrightError("invalid-input", `credential helper name "${helper}" in ${source} is not a plain program name`, { input: source });
  }
  return new Promise((resolve, reject) => {
    // The helper is found on the PATH of `env`, the environment the credentials are looked up in.
    const child = execFile(program, ["get"], { timeout: 30_000, maxBuffer: 1024 * 1024, env }, (error, stdout, stderr) => {
      if (error !== null) {
        const errno = (error as NodeJS.ErrnoException).code;
        // Helpers answer "credentials not found in native keychain" on stdout or stderr with a non-zero exit.
        if (/credentials not found/i.test(stdout + stderr)) {
          resolve(undefined);
          return;
        }
        reject(
          new ImagewrightError(
            "unavailable",
            errno === "ENOENT"
              ? `credential helper ${program} (from ${source}) is not installed`
              : `credential helper ${program} (from ${source}) failed for ${host}: ${stderr.trim().split("\n")[0] ?? `exit ${String(errno)}`}`,
            { input: source, hint: `install ${program} or remove it from the Docker config`, cause: error },
          ),
        );
        return;
      }
      let answer: { Username?: unknown; Secret?: unknown };
      try {
        answer = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
      } catch (cause) {
        // The helper's output holds a secret: never echo it.
        reject(new ImagewrightError("invalid-input", `credential helper ${program} answered something that is not JSON`, { input: source, cause }));
        return;
      }
      if (typeof answer.Secret !== "string" || typeof answer.Username !== "string") {
        reject(new ImagewrightError("invalid-input", `credential helper ${program} answered without Username and Secret`, { input: source }));
        return;
      }
      const from = `${program} (${source})`;
      resolve(answer.Username === "<token>" ? { identityToken: answer.Secret, source: from } : { username: answer.Username, password: answer.Secret, source: from });
    });
    child.stdin?.end(host);
  });
}

/** Every secret string a credential holds, for redacting text that might echo one. */
export function secretsOf(credential: Credential | undefined): string[] {
  if (credential === undefined) return [];
  const secrets = [credential.password, credential.identityToken, credential.registryToken];
  if (credential.username !== undefined && credential.password !== undefined) {
    secrets.push(Buffer.from(`${credential.username}:${credential.password}`).toString("base64"));
  }
  return secrets.filter((s): s is string => s !== undefined && s.length > 0);
}
