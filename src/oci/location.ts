// From a reference the user typed to the ImageStore it names and the reference
// inside that store, for registries, OCI layouts and docker archives alike.

import type { RegistryClient } from "../registry/index.ts";
import { DockerArchive } from "./archive.ts";
import { OciLayout } from "./layout.ts";
import type { ImageStore } from "./model.ts";
import { DOCKER_HUB, parseReference } from "./reference.ts";
import type { Reference } from "./reference.ts";

export interface LocationOptions {
  /** Shared so copies between repositories of one registry reuse connections and tokens. */
  client: RegistryClient;
  /** Open to write: create a missing layout; start a new docker archive file. */
  forWriting?: boolean;
}

export interface Location {
  store: ImageStore;
  /** Tag or digest inside the store; "" for a layout's or archive's unnamed (only) image. */
  reference: string;
  parsed: Reference;
}

/**
 * Opens the location a reference names. A registry reference without tag or
 * digest means `latest`; with both (`tag@digest`) the digest wins, as in docker.
 */
export async function openLocation(text: string, options: LocationOptions): Promise<Location> {
  const parsed = parseReference(text);
  switch (parsed.transport) {
    case "registry": {
      // Docker Hub's API lives on its own host; references name it docker.io.
      const host = parsed.registry === DOCKER_HUB ? "registry-1.docker.io" : parsed.registry;
      return { store: options.client.repository(host, parsed.repository), reference: parsed.digest ?? parsed.tag ?? "latest", parsed };
    }
    case "oci":
      return { store: await OciLayout.open(parsed.path, { create: options.forWriting === true }), reference: parsed.tag ?? "", parsed };
    case "docker-archive":
      return { store: options.forWriting === true ? await DockerArchive.create(parsed.path) : await DockerArchive.read(parsed.path), reference: parsed.name ?? "", parsed };
  }
}
