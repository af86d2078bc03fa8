// One repository of one registry as an ImageStore: manifests by tag or digest,
// blobs streamed and digest-checked both ways, resumable chunked uploads,
// cross-repository mounts, tags, deletion and referrers.

import { createHash } from "node:crypto";
import { Readable, type Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { ImagewrightError, isImagewrightError } from "../errors/index.ts";
import { MANIFEST_MEDIA_TYPES, MediaTypes, type Descriptor, type ImageStore, type StoredManifest } from "../oci/model.ts";
import { discard, header, readBytes, type RegistryClient, type RegistryResponse } from "./client.ts";
import { DigestVerifier, digestOf, parseDigest } from "./digest.ts";
import { jsonErrorPlace } from "./json.ts";
import { parseManifestReference } from "./names.ts";
import { backoffMs, isRetryableError } from "./retry.ts";

const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(", ");

export class RegistryRepository implements ImageStore {
  readonly client: RegistryClient;
  readonly host: string;
  readonly repository: string;
  /** `host/repository`, e.g. `127.0.0.1:5000/org/kafka`. */
  readonly name: string;
  readonly #pull: string[];
  readonly #push: string[];

  constructor(client: RegistryClient, host: string, repository: string) {
    this.client = client;
    this.host = host;
    this.repository = repository;
    this.name = `${host}/${repository}`;
    this.#pull = [`repository:${repository}:pull`];
    this.#push = [`repository:${repository}:pull,push`];
  }

  /** `name:tag` or `name@digest`: how a reference in this repository reads in messages. */
  reference(reference: string): string {
    return reference.includes(":") ? `${this.name}@${reference}` : `${this.name}:${reference}`;
  }

  async resolve(reference: string): Promise<Descriptor> {
    const ref = parseManifestReference(reference);
    const what = `manifest ${this.reference(reference)}`;
    const response = await this.client.send({
      method: "HEAD",
      url: this.#url(`manifests/${reference}`),
      headers: { accept: ACCEPT_MANIFESTS },
      scopes: this.#pull,
      what,
      retry: true,
    });
    await response.body.dump();
    if (response.status === 404) throw await this.client.failure(response, what);
    const digest = header(response.headers, "docker-content-digest");
    const mediaType = mediaTypeOf(header(response.headers, "content-type"));
    const size = Number(header(response.headers, "content-length"));
    // Registries that answer HEAD without these (or not at all) are read with GET instead.
    if (response.status !== 200 || digest === undefined || mediaType === undefined || !MANIFEST_MEDIA_TYPES.includes(mediaType) || !Number.isSafeInteger(size)) {
      return (await this.getManifest(reference)).descriptor;
    }
    parseDigest(digest, `Docker-Content-Digest from ${this.host}`);
    if (ref.kind === "digest" && digest !== ref.digest) {
      throw new ImagewrightError("invalid-input", `${what}: registry answered for digest ${digest}`, { input: what, hint: "the registry is misbehaving; do not trust its answers" });
    }
    return { mediaType, digest, size };
  }

  async getManifest(reference: string): Promise<StoredManifest> {
    const ref = parseManifestReference(reference);
    const what = `manifest ${this.reference(reference)}`;
    const response = await this.client.send({
      method: "GET",
      url: this.#url(`manifests/${reference}`),
      headers: { accept: ACCEPT_MANIFESTS },
      scopes: this.#pull,
      what,
      retry: true,
    });
    if (response.status !== 200) throw await this.client.failure(response, what);
    const declared = Number(header(response.headers, "content-length"));
    if (Number.isFinite(declared) && declared > this.client.manifestLimit) {
      discard(response.body);
      throw new ImagewrightError("invalid-input", `${what} is ${declared} bytes, more than the ${this.client.manifestLimit} bytes allowed for a manifest`, { input: what });
    }
    const bytes = await readBytes(response.body, this.client.manifestLimit, what);
    const headerDigest = header(response.headers, "docker-content-digest");
    const expected = ref.kind === "digest" ? ref.digest : headerDigest;
    const algorithm = expected === undefined ? "sha256" : parseDigest(expected, `digest of ${what}`).algorithm;
    const digest = digestOf(bytes, algorithm);
    for (const claimed of [ref.kind === "digest" ? ref.digest : undefined, headerDigest]) {
      if (claimed === undefined) continue;
      const actual = digestOf(bytes, parseDigest(claimed, `Docker-Content-Digest from ${this.host}`).algorithm);
      if (actual !== claimed) {
        throw new ImagewrightError("invalid-input", `${what} does not match its digest: content is ${actual}, expected ${claimed}`, {
          input: what,
          hint: "the manifest was corrupted in transit or by the registry; nothing was stored from it",
        });
      }
    }
    const mediaType = mediaTypeOf(header(response.headers, "content-type"));
    return {
      descriptor: { mediaType: mediaType !== undefined && mediaType !== "application/json" ? mediaType : declaredMediaType(bytes, what), digest, size: bytes.length },
      bytes,
    };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    // "" is the model's "no name" (layouts record unnamed images with it); a registry stores those by digest.
    const name = tag === "" ? undefined : tag;
    if (name !== undefined) parseManifestReference(name);
    const digest = digestOf(bytes);
    const reference = name ?? digest;
    const what = `manifest ${this.reference(reference)}`;
    const document = checkManifestDocument(bytes, mediaType, what, this.client.manifestLimit);
    const response = await this.client.send({
      method: "PUT",
      url: this.#url(`manifests/${reference}`),
      headers: { "content-type": mediaType },
      body: bytes,
      scopes: this.#push,
      what,
      retry: true,
    });
    if (response.status !== 201 && response.status !== 200) throw await this.client.failure(response, what);
    await response.body.dump();
    const stored = header(response.headers, "docker-content-digest");
    if (stored !== undefined && stored !== digest) {
      throw new ImagewrightError("invalid-input", `${what}: registry stored the manifest as ${stored}, but its bytes are ${digest}`, {
        input: what,
        hint: "the registry rewrote the manifest (some convert media types); push it in a form it accepts",
      });
    }
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    // Registries without the referrers API are told about a subject through the tag-schema index.
    const subject = document.subject as Descriptor | undefined;
    if (subject !== undefined && header(response.headers, "oci-subject") === undefined) {
      await this.#addToReferrersIndex(subject, { ...descriptor, ...artifactFields(document) });
    }
    return descriptor;
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    parseDigest(descriptor.digest);
    const what = `blob ${this.name}@${descriptor.digest}`;
    const response = await this.client.send({ method: "HEAD", url: this.#url(`blobs/${descriptor.digest}`), scopes: this.#pull, what, retry: true, followRedirects: true });
    await response.body.dump();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.client.failure(response, what);
  }

  /**
   * Blob content as a stream that errors at its end unless size and digest
   * match. A download that breaks off is resumed with `Range: bytes=<offset>-`
   * (bounded by the retry policy), so a dropped connection late in a large
   * layer costs only the rest of it.
   */
  async getBlob(descriptor: Descriptor): Promise<Readable> {
    parseDigest(descriptor.digest);
    const what = `blob ${this.name}@${descriptor.digest}`;
    const response = await this.#blobResponse(descriptor, what, 0);
    const verifier = new DigestVerifier(descriptor.digest, descriptor.size, what);
    void this.#pump(response.body, verifier, descriptor, what);
    return verifier;
  }

  async #blobResponse(descriptor: Descriptor, what: string, offset: number): Promise<RegistryResponse> {
    const response = await this.client.send({
      method: "GET",
      url: this.#url(`blobs/${descriptor.digest}`),
      ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
      scopes: this.#pull,
      what,
      retry: true,
      followRedirects: true,
    });
    if (offset === 0 && response.status === 200) return response;
    if (offset > 0 && response.status === 206 && (header(response.headers, "content-range") ?? "").startsWith(`bytes ${offset}-`)) return response;
    if (offset > 0 && (response.status === 200 || response.status === 206)) {
      discard(response.body);
      throw new ImagewrightError("unavailable", `${what}: the download broke off after ${offset} bytes and ${this.host} cannot resume it (no range support)`, {
        input: what,
        place: `byte ${offset}`,
        hint: "run the command again",
      });
    }
    throw await this.client.failure(response, what);
  }

  /** Feeds the verifier from the registry, resuming after dropped connections; every failure ends up on the verifier. */
  async #pump(first: RegistryResponse["body"], verifier: DigestVerifier, descriptor: Descriptor, what: string): Promise<void> {
    let body = first;
    let offset = 0;
    let resumes = 0;
    // A consumer that stops reading early closes the connection instead of leaving it half-read.
    verifier.once("close", () => {
      if (!body.destroyed) discard(body);
    });
    try {
      for (;;) {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            if (verifier.destroyed) return;
            offset += chunk.length;
            if (!verifier.write(chunk)) await drained(verifier);
          }
          if (!verifier.destroyed) verifier.end();
          return;
        } catch (error) {
          if (verifier.destroyed) return;
          const broke = new ImagewrightError(
            "unavailable",
            `${what}: the download from ${this.host} broke off after ${offset} of ${descriptor.size} bytes: ${(error as Error).message}`,
            { input: what, place: `byte ${offset}`, hint: "run the command again", cause: error },
          );
          if (isImagewrightError(error) || !isRetryableError(error) || ++resumes >= this.client.retry.attempts) {
            verifier.destroy(isImagewrightError(error) ? error : broke);
            return;
          }
          await sleep(backoffMs(this.client.retry, resumes));
          if (verifier.destroyed) return;
          body = (await this.#blobResponse(descriptor, what, offset)).body;
        }
      }
    } catch (error) {
      if (!verifier.destroyed) verifier.destroy(error as Error);
    }
  }

  /**
   * Uploads a blob: one PUT for small ones; larger ones stream in one PATCH
   * while the source is still being read. The last `client.resumeWindow`
   * bytes are kept, so when the PATCH fails the upload resumes from what the
   * registry says it holds. The digest is checked before the upload is
   * committed (by the source's own verifier when it is a verified download of
   * the same blob, else here).
   */
  async putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    const { algorithm } = parseDigest(descriptor.digest);
    const what = `blob ${this.name}@${descriptor.digest}`;
    // A verified download of this very blob errors at its end if it is wrong: hashing it again would only cost CPU.
    const verified = content instanceof DigestVerifier && content.digest === descriptor.digest && content.size === descriptor.size;
    const hash = verified ? undefined : createHash(algorithm);
    const source = (content as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    const window = new ReplayWindow(this.client.resumeWindow);
    let read = 0;
    let exhausted = false;
    let sourceError: unknown;
    /** The next piece of the source, hashed, counted and remembered; undefined at its end. */
    const pull = async (): Promise<Buffer | undefined> => {
      if (exhausted) return undefined;
      try {
        const next = await source.next();
        if (next.done === true) {
          exhausted = true;
          if (read < descriptor.size) {
            throw new ImagewrightError("invalid-input", `${what}: content ended after ${read} bytes, its descriptor says ${descriptor.size}`, { input: what, place: `byte ${read}` });
          }
          return undefined;
        }
        const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
        read += chunk.length;
        if (read > descriptor.size) {
          throw new ImagewrightError("invalid-input", `${what}: content is longer than the ${descriptor.size} bytes its descriptor says`, { input: what, place: `byte ${descriptor.size}` });
        }
        hash?.update(chunk);
        window.push(chunk);
        return chunk;
      } catch (error) {
        sourceError ??= error;
        content.destroy();
        throw error;
      }
    };
    const verify = (): void => {
      const actual = hash === undefined ? descriptor.digest : `${algorithm}:${hash.digest("hex")}`;
      if (read !== descriptor.size || actual !== descriptor.digest) {
        throw new ImagewrightError("invalid-input", `${what}: content does not match its descriptor (got ${read} bytes with digest ${actual})`, {
          input: what,
          place: `byte ${read}`,
          hint: "the source is corrupt; nothing was committed",
        });
      }
    };

    if (descriptor.size <= this.client.monolithicLimit) {
      const parts: Buffer[] = [];
      for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) parts.push(chunk);
      verify();
      await this.#putMonolithic(descriptor, Buffer.concat(parts), what);
      return;
    }

    let location = await this.#startUpload(what);
    try {
      let held = 0; // bytes the registry holds, as far as we know
      for (let attempt = 1; ; attempt++) {
        if (exhausted && held === read) break;
        const resend = window.slice(held, read);
        if (resend === undefined) {
          throw new ImagewrightError("unavailable", `${what}: the upload broke off and ${this.host} holds ${held} bytes, fewer than can be sent again (${read - window.length} onwards are kept)`, {
            input: what,
            place: `byte ${held}`,
            hint: "run the command again; blobs already pushed are skipped",
          });
        }
        const body = Readable.from(
          (async function* () {
            if (resend.length > 0) yield resend;
            for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) yield chunk;
          })(),
          { objectMode: false },
        );
        let failure: unknown;
        try {
          // Content-Range and Content-Length let the registry refuse (416) a PATCH that does not continue exactly
          // where it stands, and tell a complete body from one cut short.
          const response = await this.client.send({
            method: "PATCH",
            url: location,
            headers: {
              "content-type": "application/octet-stream",
              "content-range": `${held}-${descriptor.size - 1}`,
              "content-length": String(descriptor.size - held),
            },
            body,
            scopes: this.#push,
            what,
            retry: false,
          });
          const next = header(response.headers, "location");
          if (response.status === 202 && next !== undefined) {
            await response.body.dump();
            location = new URL(next, response.url);
            const range = /^(?:bytes=)?0-(\d+)$/.exec(header(response.headers, "range") ?? "");
            held = range?.[1] !== undefined ? Number(range[1]) + 1 : exhausted ? read : held;
            if (exhausted && held === read) break;
            // The registry answered before taking the whole body: carry on from what it says it holds.
            if (range?.[1] !== undefined) continue;
            const status = await this.#uploadStatus(location, what);
            location = status.location;
            held = status.received;
            continue;
          }
          failure = await this.client.failure(response, what);
          // 401: a token that expired mid-upload; asking the upload's status below fetches a fresh one.
          if (response.status < 500 && response.status !== 429 && response.status !== 401 && response.status !== 416) throw failure;
        } catch (error) {
          if (sourceError !== undefined) throw sourceError as Error;
          if (isImagewrightError(error) && error.kind !== "unavailable") throw error;
          failure = error;
        }
        if (sourceError !== undefined) throw sourceError as Error;
        if (attempt >= this.client.retry.attempts) throw failure as Error;
        await sleep(backoffMs(this.client.retry, attempt));
        const status = await this.#uploadStatus(location, what);
        location = status.location;
        held = status.received;
        if (held > read) {
          throw new ImagewrightError("unavailable", `${what}: ${this.host} claims ${held} bytes of an upload that was sent ${read}`, { input: what, hint: "run the command again" });
        }
      }
      verify();
    } catch (error) {
      if (!exhausted && sourceError === undefined) content.destroy();
      await this.#cancelUpload(location, what);
      throw error;
    }
    await this.#finishUpload(location, descriptor, what);
  }

  async mountBlob(descriptor: Descriptor, from: ImageStore): Promise<boolean> {
    if (!(from instanceof RegistryRepository) || from.host !== this.host) return false;
    if (from.repository === this.repository) return this.hasBlob(descriptor);
    parseDigest(descriptor.digest);
    const what = `mount of blob ${descriptor.digest} from ${from.name} into ${this.name}`;
    const url = this.#url("blobs/uploads/");
    url.searchParams.set("mount", descriptor.digest);
    url.searchParams.set("from", from.repository);
    let response: RegistryResponse;
    try {
      response = await this.client.send({
        method: "POST",
        url,
        scopes: [...this.#push, `repository:${from.repository}:pull`],
        what,
        retry: true,
      });
    } catch (error) {
      // Not allowed to read the source here: copying the bytes may still work (or fail on the read, with a clearer error).
      if (isImagewrightError(error) && error.kind === "invalid-input" && (error.input ?? "").startsWith("credentials for ")) return false;
      throw error;
    }
    await response.body.dump();
    if (response.status === 201) return true;
    if (response.status === 202) {
      // The registry could not mount (blob unknown there, or mounting off) and opened an upload instead: close it, let the caller copy.
      const location = header(response.headers, "location");
      if (location !== undefined) await this.#cancelUpload(new URL(location, response.url), what);
      return false;
    }
    throw await this.client.failure(response, what);
  }

  async listTags(): Promise<string[]> {
    const url = this.#url("tags/list");
    url.searchParams.set("n", String(this.client.pageSize));
    return this.client.pages(this.host, url, "tags", this.#pull, `tags of ${this.name}`);
  }

  /** Deletes a manifest by digest (every tag on it goes too), or a tag where the registry supports that. */
  async delete(reference: string): Promise<void> {
    const ref = parseManifestReference(reference);
    const what = `manifest ${this.reference(reference)}`;
    const response = await this.client.send({
      method: "DELETE",
      url: this.#url(`manifests/${reference}`),
      scopes: [`repository:${this.repository}:delete`],
      what,
      retry: true,
    });
    if (response.status === 202 || response.status === 200 || response.status === 204) {
      await response.body.dump();
      return;
    }
    if (response.status === 405) {
      throw await this.client.failure(response, what, "the registry has deletion disabled (Distribution: storage.delete.enabled)");
    }
    if (ref.kind === "tag" && response.status === 400) {
      throw await this.client.failure(
        response,
        what,
        `this registry deletes manifests by digest only; resolve the tag and delete ${this.name}@<digest> (which removes every tag on it)`,
      );
    }
    throw await this.client.failure(response, what);
  }

  /**
   * Manifests whose `subject` is `digest`: from the referrers API, or where the
   * registry lacks it, from the `sha256-<hex>` tag-schema index.
   */
  async referrers(digest: string, artifactType?: string): Promise<Descriptor[]> {
    const { algorithm, hex } = parseDigest(digest);
    const what = `referrers of ${this.name}@${digest}`;
    const url = this.#url(`referrers/${digest}`);
    if (artifactType !== undefined) url.searchParams.set("artifactType", artifactType);
    const response = await this.client.send({ method: "GET", url, headers: { accept: MediaTypes.ociIndex }, scopes: this.#pull, what, retry: true });
    let manifests: Descriptor[];
    if (response.status === 200 && mediaTypeOf(header(response.headers, "content-type")) === MediaTypes.ociIndex) {
      const bytes = await readBytes(response.body, this.client.manifestLimit, what);
      manifests = indexManifests(bytes, what);
      if ((header(response.headers, "oci-filters-applied") ?? "").includes("artifactType")) return manifests;
    } else if (response.status === 404 || response.status === 200) {
      await response.body.dump();
      try {
        manifests = indexManifests((await this.getManifest(fallbackTag(algorithm, hex))).bytes, what);
      } catch (error) {
        if (isImagewrightError(error) && error.kind === "not-found") return [];
        throw error;
      }
    } else {
      throw await this.client.failure(response, what);
    }
    return artifactType === undefined ? manifests : manifests.filter((m) => m.artifactType === artifactType);
  }

  #url(path: string): URL {
    return new URL(`${this.repository}/${path}`, this.client.base(this.host));
  }

  async #addToReferrersIndex(subject: Descriptor, referrer: Descriptor): Promise<void> {
    const { algorithm, hex } = parseDigest(subject.digest, `subject digest of ${referrer.digest}`);
    const tag = fallbackTag(algorithm, hex);
    let manifests: Descriptor[] = [];
    try {
      manifests = indexManifests((await this.getManifest(tag)).bytes, `referrers index ${this.reference(tag)}`);
    } catch (error) {
      if (!(isImagewrightError(error) && error.kind === "not-found")) throw error;
    }
    if (manifests.some((m) => m.digest === referrer.digest)) return;
    const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [...manifests, referrer] };
    await this.putManifest(Buffer.from(JSON.stringify(index)), MediaTypes.ociIndex, tag);
  }

  async #startUpload(what: string): Promise<URL> {
    const response = await this.client.send({ method: "POST", url: this.#url("blobs/uploads/"), scopes: this.#push, what, retry: true });
    const location = header(response.headers, "location");
    if (response.status !== 202 || location === undefined) throw await this.client.failure(response, what);
    await response.body.dump();
    return new URL(location, response.url);
  }

  async #putMonolithic(descriptor: Descriptor, bytes: Buffer, what: string): Promise<void> {
    // The bytes are in memory, so a lost upload session is simply started again.
    for (let attempt = 1; ; attempt++) {
      const location = await this.#startUpload(what);
      try {
        await this.#finishUpload(location, descriptor, what, bytes);
        return;
      } catch (error) {
        if (attempt >= this.client.retry.attempts || !(isImagewrightError(error) && (error.kind === "unavailable" || error.kind === "not-found"))) throw error;
        await sleep(backoffMs(this.client.retry, attempt));
      }
    }
  }

  /**
   * How many bytes an upload session holds (`Range: 0-<last>`) and its current
   * URL. A session the registry dropped (Distribution cancels one whose PATCH
   * broke off) is started again, from byte 0.
   */
  async #uploadStatus(location: URL, what: string): Promise<{ location: URL; received: number }> {
    const response = await this.client.send({ method: "GET", url: location, scopes: this.#push, what, retry: true });
    await response.body.dump();
    if (response.status === 404) return { location: await this.#startUpload(what), received: 0 };
    if (response.status !== 204 && response.status !== 200) {
      throw new ImagewrightError("unavailable", `${what}: the upload session was lost (registry answered HTTP ${response.status} when asked for its status)`, {
        input: what,
        hint: "run the command again; blobs already pushed are skipped and the tag is only set once every blob is there",
      });
    }
    const range = /^(?:bytes=)?0-(\d+)$/.exec(header(response.headers, "range") ?? "");
    const last = range?.[1] === undefined ? -1 : Number(range[1]);
    const next = header(response.headers, "location");
    // Distribution reports an empty upload as "0-0", the same as one byte: resending that byte is harmless next to losing one.
    return { location: next === undefined ? location : new URL(next, response.url), received: last <= 0 ? 0 : last + 1 };
  }

  async #finishUpload(location: URL, descriptor: Descriptor, what: string, body?: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set("digest", descriptor.digest);
    const response = await this.client.send({
      method: "PUT",
      url,
      headers: { "content-type": "application/octet-stream" },
      body: body ?? Buffer.alloc(0),
      scopes: this.#push,
      what,
      retry: true,
    });
    if (response.status === 201 || response.status === 204) {
      await response.body.dump();
      const stored = header(response.headers, "docker-content-digest");
      if (stored !== undefined && stored !== descriptor.digest) {
        throw new ImagewrightError("invalid-input", `${what}: registry stored the blob as ${stored}`, { input: what });
      }
      return;
    }
    // A retried PUT whose first attempt landed finds its session gone: the blob is there.
    if (response.status === 404 && (await this.hasBlob(descriptor).catch(() => false))) {
      await response.body.dump();
      return;
    }
    throw await this.client.failure(response, what);
  }

  async #cancelUpload(location: URL, what: string): Promise<void> {
    try {
      const response = await this.client.send({ method: "DELETE", url: location, scopes: this.#push, what, retry: false });
      await response.body.dump();
    } catch {
      // Abandoned sessions are purged by the registry; failing to cancel one changes nothing for the caller.
    }
  }
}

/** Resolves when `stream` can take more, or is gone. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** The tag-schema fallback tag for a subject: `sha256-<hex>`. */
export function fallbackTag(algorithm: string, hex: string): string {
  return `${algorithm}-${hex.slice(0, 64)}`;
}

/**
 * The last bytes an upload sent, kept so a broken PATCH can be resumed from
 * wherever the registry stopped: at least `capacity` bytes back from the end.
 */
class ReplayWindow {
  readonly #capacity: number;
  readonly #parts: Buffer[] = [];
  #start = 0; // blob offset of the first kept byte
  #length = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    this.#parts.push(chunk);
    this.#length += chunk.length;
    while (this.#parts.length > 1 && this.#length - this.#parts[0]!.length >= this.#capacity) {
      const dropped = this.#parts.shift()!;
      this.#start += dropped.length;
      this.#length -= dropped.length;
    }
  }

  /** Bytes `from`..`to` (blob offsets; `to` is the end of what was read), or undefined when `from` is no longer kept. */
  slice(from: number, to: number): Buffer | undefined {
    if (from < this.#start || to !== this.#start + this.#length) return undefined;
    return Buffer.concat(this.#parts).subarray(from - this.#start);
  }
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const value = contentType?.split(";")[0]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = Buffer.from(bytes).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ImagewrightError("invalid-input", `${what} is not valid JSON`, { input: what, place: jsonErrorPlace(text), cause });
  }
}

function declaredMediaType(bytes: Uint8Array, what: string): string {
  const document = parseJson(bytes, what) as { mediaType?: unknown; manifests?: unknown };
  if (typeof document?.mediaType === "string") return document.mediaType;
  return Array.isArray(document?.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
}

/** Checks what we are about to push is a manifest at all; the registry checks the rest. */
function checkManifestDocument(bytes: Uint8Array, mediaType: string, what: string, limit: number): Record<string, unknown> {
  if (bytes.length > limit) {
    throw new ImagewrightError("invalid-input", `${what} is ${bytes.length} bytes, more than the ${limit} bytes allowed for a manifest`, { input: what });
  }
  if (!/^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/i.test(mediaType)) {
    throw new ImagewrightError("invalid-input", `${what}: media type "${mediaType}" is not a media type`, { input: `media type "${mediaType}"` });
  }
  const document = parseJson(bytes, what);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new ImagewrightError("invalid-input", `${what} is not a JSON object`, { input: what, place: "$" });
  }
  const record = document as Record<string, unknown>;
  if (record.schemaVersion !== 2) {
    throw new ImagewrightError("invalid-input", `${what}: schemaVersion must be 2, found ${JSON.stringify(record.schemaVersion) ?? "nothing"}`, { input: what, place: "$.schemaVersion" });
  }
  if (record.mediaType !== undefined && record.mediaType !== mediaType) {
    throw new ImagewrightError("invalid-input", `${what}: its mediaType ${JSON.stringify(record.mediaType)} differs from the ${mediaType} it is pushed as`, { input: what, place: "$.mediaType" });
  }
  return record;
}

function artifactFields(document: Record<string, unknown>): Partial<Descriptor> {
  const config = document.config as { mediaType?: unknown } | undefined;
  const artifactType = typeof document.artifactType === "string" ? document.artifactType : typeof config?.mediaType === "string" ? config.mediaType : undefined;
  const annotations = document.annotations as Record<string, string> | undefined;
  return { ...(artifactType === undefined ? {} : { artifactType }), ...(annotations === undefined ? {} : { annotations }) };
}

function indexManifests(bytes: Uint8Array, what: string): Descriptor[] {
  const document = parseJson(bytes, what) as { manifests?: unknown };
  if (!Array.isArray(document?.manifests)) {
    throw new ImagewrightError("invalid-input", `${what}: the answer is not an image index`, { input: what, place: "$.manifests" });
  }
  return document.manifests as Descriptor[];
}

