// A throw-away certificate authority for TLS steps, made with the real openssl: a CA,
// a server certificate (for localhost and 127.0.0.1) in a PKCS#12 keystore, and a
// client certificate for mutual TLS.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImagewrightError } from "../errors/index.ts";

const run = promisify(execFile);

export interface TestPki {
  directory: string;
  /** The CA certificate (PEM), trusted by both sides. */
  caPem: string;
  /** File names inside `directory`, for mounting into the server container. */
  serverKeystore: string;
  caFile: string;
  keystorePassword: string;
  client: { cert: string; key: string };
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run("openssl", [...args], { cwd });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ImagewrightError("unavailable", "openssl is not installed; the TLS step makes its certificates with it", { input: "openssl", cause: error });
    }
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0] ?? ""} failed: ${stderr.trim()}`, { cause: error });
  }
}

async function issue(directory: string, name: string, subject: string, extensions: string): Promise<void> {
  await writeFile(join(directory, `${name}.ext`), extensions);
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], directory);
  await openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-sha256", "-out", `${name}.pem`, "-extfile", `${name}.ext`],
    directory,
  );
}

/** Makes the PKI in `directory` (which the caller owns and removes). */
export async function makeTestPki(directory: string): Promise<TestPki> {
  const keystorePassword = randomBytes(12).toString("hex");
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-sha256", "-subj", "/CN=imagewright verify CA"], directory);
  await issue(directory, "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await issue(directory, "client", "/CN=imagewright-verify-client", "extendedKeyUsage=clientAuth\n");
  await openssl(
    ["pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem", "-name", "server", "-out", "server.p12", "-passout", `pass:${keystorePassword}`],
    directory,
  );
  // The broker runs as uid 1000 and reads these through a bind mount.
  await chmod(join(directory, "server.p12"), 0o644);
  await chmod(join(directory, "ca.pem"), 0o644);
  await chmod(directory, 0o755);
  return {
    directory,
    caPem: await readFile(join(directory, "ca.pem"), "utf8"),
    serverKeystore: "server.p12",
    caFile: "ca.pem",
    keystorePassword,
    client: { cert: await readFile(join(directory, "client.pem"), "utf8"), key: await readFile(join(directory, "client.key"), "utf8") },
  };
}
