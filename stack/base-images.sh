#!/usr/bin/env bash
# Makes the Debian base images locally (no image can be pulled here): mmdebstrap a
# minbase rootfs from deb.debian.org, turn it into an image with crane (empty base,
# zero timestamps, so the same rootfs gives the same digest), push it to the local
# registry as 127.0.0.1:5000/upstream/debian:<suite> (the name examples/catalog
# uses) and load it into the Docker Engine. Each step is skipped when its result is
# already there.
#
#   stack/base-images.sh [SUITE...]    default: bookworm trixie
#   IMAGEWRIGHT_REFRESH_BASE=1 ...     re-run mmdebstrap (newer packages)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"
stack_lock base-images

cache="$IMAGEWRIGHT_CACHE/base-images"
crane="$IMAGEWRIGHT_TOOLS/bin/crane"
registry="127.0.0.1:$IMAGEWRIGHT_REGISTRY_PORT"
# One timestamp for every file, so rebuilding from the same packages gives the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}
mirror=http://deb.debian.org/debian
security_mirror=http://deb.debian.org/debian-security

# Like Debian's official container images: no documentation, no daemons started by
# maintainer scripts, no recommends.
mmdebstrap_options=(
  --variant=minbase
  --format=tar
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --customize-hook='printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d"; chmod 0755 "$1/usr/sbin/policy-rc.d"'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/cache/ldconfig/aux-cache'
)

# rootfs SUITE: the cached rootfs tarball of SUITE, made by mmdebstrap when missing.
rootfs() {
  local suite=$1
  local tar="$cache/debian-$suite.tar"
  local key
  key=$(printf '%s\n' "$suite" "$SOURCE_DATE_EPOCH" "$mirror" "${mmdebstrap_options[@]}" | sha256sum | cut -c1-16)
  if [ -f "$tar" ] && [ "$(cat "$tar.key" 2>/dev/null)" = "$key" ] && [ -z "${IMAGEWRIGHT_REFRESH_BASE:-}" ]; then
    printf '%s\n' "$tar"
    return 0
  fi
  mkdir -p "$cache"
  say "mmdebstrap debian $suite (minbase) from $mirror"
  local started=$SECONDS
  if ! as_root mmdebstrap --quiet "${mmdebstrap_options[@]}" "$suite" "$tar.partial" \
    "deb $mirror $suite main" \
    "deb $mirror $suite-updates main" \
    "deb $security_mirror $suite-security main" >"$cache/debian-$suite.log" 2>&1; then
    say "mmdebstrap $suite failed (log: $cache/debian-$suite.log):"
    tail -n 20 "$cache/debian-$suite.log" >&2
    rm -f "$tar.partial"
    return 1
  fi
  mv -f "$tar.partial" "$tar"
  printf '%s\n' "$key" >"$tar.key"
  say "rootfs debian $suite: $(du -h "$tar" | cut -f1) in $((SECONDS - started))s"
  printf '%s\n' "$tar"
}

publish() {
  local suite=$1 tar=$2
  local ref="$registry/upstream/debian:$suite"
  local stamp="$tar.pushed"
  # The rootfs checksum is kept beside it: hashing 120 MB on every run would cost a second.
  local rootfs_sum=""
  if [ -f "$tar.sum" ] && [ ! "$tar" -nt "$tar.sum" ]; then read -r rootfs_sum <"$tar.sum"; fi
  if [ -z "$rootfs_sum" ]; then
    rootfs_sum=$(sha256sum "$tar" | cut -d' ' -f1)
    printf '%s\n' "$rootfs_sum" >"$tar.sum"
  fi

  # The registry already has exactly this rootfs under the tag: one HEAD request.
  local digest=""
  if [ -f "$stamp" ] && read -r pushed_ref pushed_sum pushed_digest <"$stamp" &&
    [ "$pushed_ref" = "$ref" ] && [ "$pushed_sum" = "$rootfs_sum" ] &&
    [ "$(curl -fsS --head -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "http://$registry/v2/upstream/debian/manifests/$suite" | tr -d '\r' |
      sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" = "$pushed_digest" ]; then
    digest=$pushed_digest
  else
    say "pushing $ref"
    "$crane" append --insecure --platform linux/amd64 --oci-empty-base -f "$tar" -t "$ref" >/dev/null 2>"$cache/push-$suite.log" ||
      { cat "$cache/push-$suite.log" >&2; return 1; }
    digest=$("$crane" mutate --insecure "$ref" -t "$ref" \
      --set-platform linux/amd64 \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --cmd bash \
      -l org.opencontainers.image.title="debian" \
      -l org.opencontainers.image.version="$suite" \
      -l org.opencontainers.image.source="mmdebstrap --variant=minbase $suite $mirror" \
      -l io.imagewright.rootfs.sha256="$rootfs_sum" 2>>"$cache/push-$suite.log" | sed 's/.*@//') ||
      { cat "$cache/push-$suite.log" >&2; return 1; }
    printf '%s %s %s\n' "$ref" "$rootfs_sum" "$digest" >"$stamp"
  fi

  # The engine holds the same image (builds with the docker driver and `docker run` find it there).
  if ! engine_api "/images/$ref/json" 2>/dev/null | grep -qF "\"$registry/upstream/debian@$digest\""; then
    say "loading $ref into the Docker Engine"
    docker pull --quiet "$ref" >/dev/null
  fi
}

suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then suites=(bookworm trixie); fi
for suite in "${suites[@]}"; do
  tar=$(rootfs "$suite")
  publish "$suite" "$tar"
done
