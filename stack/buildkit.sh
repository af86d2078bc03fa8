#!/usr/bin/env bash
# Starts a host BuildKit daemon (buildkitd from stack/tools.sh, rootful, runc from
# Debian's docker.io) on a unix socket and registers it with buildx as the builder
# `imagewright` (remote driver). Docker Engine 20.10's own BuildKit (v0.8, the
# `default` docker-driver builder) builds and pushes plain Dockerfiles, but lacks
# named contexts (bake's `target:` contexts), multi-platform indexes, OCI layout
# output and registry cache export, which the build engine needs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"
stack_lock buildkit

builder=${IMAGEWRIGHT_BUILDER:-imagewright}
dir="$STACK_STATE/buildkit"
socket="unix://$dir/buildkitd.sock"
bin="$IMAGEWRIGHT_TOOLS/bin"

if ! "$bin/buildctl" --addr "$socket" debug workers >/dev/null 2>&1; then
  mkdir -p "$dir"
  # Registries on loopback speak plain HTTP (stack/lib.sh start_registry). BuildKit
  # already falls back to HTTP for any loopback host:port (tests' own registries rely
  # on that); the default registry is named anyway so a proxy setting cannot change it.
  {
    printf '[worker.oci]\n  enabled = true\n  gc = true\n  gckeepstorage = "10GB"\n'
    printf '[worker.containerd]\n  enabled = false\n'
    for host in "127.0.0.1:$IMAGEWRIGHT_REGISTRY_PORT" "localhost:$IMAGEWRIGHT_REGISTRY_PORT"; do
      printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$host"
    done
  } >"$dir/buildkitd.toml"
  say "starting buildkitd (builder '$builder', $socket)"
  rm -f "$dir/buildkitd.sock"
  # Rootful (runc needs it), but the socket belongs to the caller's group so that
  # buildctl and buildx need no sudo.
  as_root sh -c 'nohup "$1" --config "$2" --root "$3" --addr "$4" --group "$7" >"$5" 2>&1 8>&- 9>&- & echo $! >"$6"' \
    buildkitd "$bin/buildkitd" "$dir/buildkitd.toml" "$dir/root" "$socket" "$dir/buildkitd.log" "$dir/pid" "$(id -g)"
  if ! wait_for "buildkitd" 60 "$bin/buildctl" --addr "$socket" debug workers; then
    tail -n 20 "$dir/buildkitd.log" >&2
    exit 1
  fi
fi

# The buildx builder that points at it (kept in ~/.docker/buildx; not made the current builder,
# so `docker buildx` without --builder still uses the engine's).
# (buildx keeps each builder as a JSON file; reading it saves a docker CLI start.)
instance="${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances/$builder"
if ! grep -qF "$socket" "$instance" 2>/dev/null; then
  docker buildx rm "$builder" >/dev/null 2>&1 || true
  say "registering buildx builder '$builder'"
  docker buildx create --name "$builder" --driver remote "$socket" >/dev/null
fi
