#!/usr/bin/env bash
# Installs and starts, idempotently, the real services imagewright's tests and
# main job use: Docker Engine, a Distribution registry on loopback, the Go-built
# tools (crane, regctl, buildx, BuildKit), a host buildkitd as buildx builder
# `imagewright`, the locally made Debian base images and the Kafka release-tarball
# fixtures. Safe to run again: what is installed, running or cached is left alone,
# and a warm run takes well under a second. The scanners' offline advisory databases
# are built on demand by `stack/scanners-db.sh` (the scan tests and the main job call it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"
stack_lock up

packages=(docker.io docker-registry skopeo umoci mmdebstrap apache2-utils iptables ca-certificates curl
  openjdk-17-jre-headless maven unzip procps gpg)
# One dpkg-query for all packages: a dpkg call per package costs seconds on a busy machine.
missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do grep -qx "$p installed" <<<"$installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing from Debian: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Docker Engine: the 20.10 client from docker.io talks to it; any newer client on PATH also does.
if ! engine_api /_ping >/dev/null 2>&1; then
  say "starting dockerd"
  mkdir -p "$STACK_STATE"
  as_root sh -c "nohup dockerd >'$STACK_STATE/dockerd.log' 2>&1 8>&- 9>&- &"
  wait_for "dockerd" 60 /usr/bin/docker info
fi

# The default registry for the main job and examples (tests start their own on other ports).
start_registry default "$IMAGEWRIGHT_REGISTRY_PORT"

# All tools, scanners included: the scan, release and main-job tests run the real
# trivy, grype, osv-scanner and syft, so a fresh machine must build them (once; cached).
bash "$here/tools.sh" all
bash "$here/buildkit.sh"
bash "$here/base-images.sh" bookworm trixie
bash "$here/kafka-fixture.sh" 3.9.1 4.1.0 >/dev/null

engine=$(engine_api /version | sed -n 's/.*"Version":"\([^"]*\)".*/\1/p')
say "stack is up: docker ${engine:-?}, registry 127.0.0.1:$IMAGEWRIGHT_REGISTRY_PORT, buildx builder imagewright"
