#!/usr/bin/env bash
# Builds the peer and backend tools imagewright uses from the Go module proxy, at
# pinned versions, into $IMAGEWRIGHT_TOOLS/bin; a tool whose binary already
# carries the pinned module version is skipped, so a warm run costs milliseconds.
#
#   stack/tools.sh            core tools: crane, regctl, buildx (+ docker CLI plugin), buildkitd, buildctl, registry (Distribution v3)
#   stack/tools.sh scanners   trivy, grype, osv-scanner, syft (issue 6; slow, not in the default run)
#   stack/tools.sh all        both
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"

# name(s) | module | pinned version | package dir(s) in the module | extra environment |
# extra variables set to the version at link time (main.version and <module>/version.Version always are).
# Versions are the newest whose whole dependency graph the reachable module proxy
# serves (see docs/stack.md: buildx v0.38.x and buildkit v0.34.x need module
# versions the proxy refuses with 403).
core_tools=(
  "crane|github.com/google/go-containerregistry|v0.22.1|./cmd/crane||github.com/google/go-containerregistry/cmd/crane/cmd.Version"
  "regctl|github.com/regclient/regclient|v0.11.7|./cmd/regctl||github.com/regclient/regclient/internal/version.vcsTag"
  "buildx|github.com/docker/buildx|v0.37.2|./cmd/buildx|"
  "buildkitd buildctl|github.com/moby/buildkit|v0.33.1|./cmd/buildkitd ./cmd/buildctl|"
  "registry|github.com/distribution/distribution/v3|v3.0.0|./cmd/registry|GOFLAGS=-mod=mod -trimpath -buildvcs=false" # Distribution v3 for registry tests (tag paging, tag deletion); its vendor/ is incomplete in the module zip
)
scanner_tools=(
  # trivy imports encoding/json/v2, still behind an experiment in Go 1.25/1.26.
  "trivy|github.com/aquasecurity/trivy|v0.67.2|./cmd/trivy|GOEXPERIMENT=jsonv2|github.com/aquasecurity/trivy/pkg/version/app.ver"
  "grype|github.com/anchore/grype|v0.110.0|./cmd/grype|"
  # v2.6.0 (the only version the proxy lists) requires go >= 1.27.0; v2.5.0 needs 1.26.5.
  "osv-scanner|github.com/google/osv-scanner/v2|v2.5.0|./cmd/osv-scanner|"
  "syft|github.com/anchore/syft|v1.52.0|./cmd/syft|"
)

bin="$IMAGEWRIGHT_TOOLS/bin"
mkdir -p "$bin"

# installed_version NAME MODULE: the pinned version recorded when NAME was built here,
# else the version of MODULE that Go embedded in the binary (tools built by `go install pkg@v`).
installed_version() {
  local name=$1 module=$2
  [ -x "$bin/$name" ] || return 0
  if [ -f "$bin/.$name.version" ]; then
    read -r recorded <"$bin/.$name.version"
    printf '%s\n' "${recorded#"$module "}"
    return 0
  fi
  local embedded
  ensure_go
  embedded=$(go version -m "$bin/$name" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3; exit }')
  # Recorded, so the next run reads a file instead of starting go.
  if [ -n "$embedded" ]; then printf '%s %s\n' "$module" "$embedded" >"$bin/.$name.version"; fi
  printf '%s\n' "$embedded"
}

# The module is built inside its own source tree (not `go install pkg@version`):
# buildkit's go.mod has exclude directives, which `go install pkg@version`
# refuses, and the proxy forbids the @v/list lookups `go install` makes for trivy.
install_entry() {
  local names module version packages extra_env version_vars
  IFS='|' read -r names module version packages extra_env version_vars <<<"$1"
  local name stale=0
  for name in $names; do
    [ "$(installed_version "$name" "$module")" = "$version" ] || stale=1
  done
  if [ $stale = 0 ]; then return 0; fi
  # Another run may be building the same tool: wait for it, then look again.
  stack_lock "tool-${names%% *}" 8
  stale=0
  for name in $names; do
    [ "$(installed_version "$name" "$module")" = "$version" ] || stale=1
  done
  if [ $stale = 0 ]; then exec 8>&-; return 0; fi
  ensure_go
  say "building $names $version from the Go module proxy"
  local started=$SECONDS source scratch
  # Build into a scratch GOBIN so a failed build never leaves a half-replaced tool behind.
  scratch=$(mktemp -d "$IMAGEWRIGHT_TOOLS/.build.XXXXXX")
  local log="$scratch.log"
  local -a env_args=(GOBIN="$scratch" GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local)
  if [ -n "$extra_env" ]; then env_args+=("$extra_env"); fi
  local -a package_args
  read -r -a package_args <<<"$packages"
  # So that `<tool> version` says what it is, as release builds do (main.version without the v).
  local ldflags="-s -w -X main.version=${version#v} -X $module/version.Version=$version" var
  for var in $version_vars; do ldflags+=" -X $var=${version#v}"; done
  # go mod download reports its errors inside the JSON ("Error"), not on stderr.
  local download
  download=$(go mod download -json "$module@$version" 2>>"$log" || true)
  source=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$download")
  sed -n 's/^\t"Error": "\(.*\)",$/\1/p' <<<"$download" | sed 's/\\u003e/>/g; s/\\u003c/</g' >>"$log"
  if [ -z "$source" ] ||
    ! (cd "$source" && env "${env_args[@]}" go install \
      -ldflags "$ldflags" \
      "${package_args[@]}") >>"$log" 2>&1; then
    say "could not build $names $version (log: $log):"
    grep -v '^go: downloading' "$log" | tail -n 15 >&2
    rm -rf "$scratch"
    exec 8>&-
    return 1
  fi
  for name in $names; do
    mv -f "$scratch/$name" "$bin/$name"
    printf '%s %s\n' "$module" "$version" >"$bin/.$name.version"
  done
  rm -rf "$scratch" "$log"
  printf '%s %s %ss\n' "$names" "$version" $((SECONDS - started)) >>"$IMAGEWRIGHT_TOOLS/build-times.log"
  say "built $names $version in $((SECONDS - started))s"
  exec 8>&-
}

# buildx is found by the docker CLI as a plugin; a symlink keeps one binary.
install_buildx_plugin() {
  local plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  if [ "$(readlink "$plugins/docker-buildx" 2>/dev/null)" != "$bin/buildx" ]; then
    mkdir -p "$plugins"
    ln -sfn "$bin/buildx" "$plugins/docker-buildx"
  fi
}

# The Go used when none >= 1.24 is installed: the toolchain as the module proxy serves
# it (golang.org/toolchain, what `GOTOOLCHAIN` downloads), cached under IMAGEWRIGHT_CACHE.
go_toolchain=go1.26.8

# ensure_go: a Go >= 1.24 first on PATH (these modules need it; Debian bookworm's
# golang is 1.19). Called only when something must be built, so warm runs never start go.
go_ready=""
ensure_go() {
  if [ -n "$go_ready" ]; then return 0; fi
  local candidate version
  for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$IMAGEWRIGHT_CACHE/go/bin/go"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    version=$("$candidate" env GOVERSION 2>/dev/null || true)
    if [[ $version =~ ^go1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 24 ]; then
      PATH="$(dirname "$candidate"):$PATH"
      go_ready=1
      return 0
    fi
  done
  fetch_go_toolchain
  PATH="$IMAGEWRIGHT_CACHE/go/bin:$PATH"
  go_ready=1
}

fetch_go_toolchain() {
  local arch proxy scratch
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%[,|]*}
  case "$proxy" in off | direct) proxy=https://proxy.golang.org ;; esac
  local version="v0.0.1-$go_toolchain.linux-$arch"
  say "no Go >= 1.24 installed: fetching $go_toolchain from $proxy (golang.org/toolchain@$version)"
  scratch=$(mktemp -d "$IMAGEWRIGHT_CACHE/.go.XXXXXX")
  curl -fsSL "$proxy/golang.org/toolchain/@v/$version.zip" -o "$scratch/toolchain.zip"
  unzip -q "$scratch/toolchain.zip" -d "$scratch"
  # Module zips keep no file modes; the go command marks the same files executable when it unpacks a toolchain.
  local root="$scratch/golang.org/toolchain@$version"
  chmod -R a+rX "$root"
  chmod a+x "$root"/bin/* "$root"/pkg/tool/*/*
  rm -rf "$IMAGEWRIGHT_CACHE/go"
  mv "$root" "$IMAGEWRIGHT_CACHE/go"
  rm -rf "$scratch"
}

what=${1:-core}
case "$what" in
  core) entries=("${core_tools[@]}") ;;
  scanners) entries=("${scanner_tools[@]}") ;;
  all) entries=("${core_tools[@]}" "${scanner_tools[@]}") ;;
  *) say "usage: stack/tools.sh [core|scanners|all]"; exit 2 ;;
esac

failed=()
for entry in "${entries[@]}"; do
  install_entry "$entry" || failed+=("${entry%%|*}")
done
if [ "$what" != scanners ]; then install_buildx_plugin; fi
if [ ${#failed[@]} -gt 0 ]; then
  say "not built: ${failed[*]}"
  exit 1
fi
