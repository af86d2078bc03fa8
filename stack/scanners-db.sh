#!/usr/bin/env bash
# Builds the scanners' offline advisory databases from the real advisories in
# fixtures/advisories (no internet: nothing is downloaded but Go modules):
#   trivy:        <out>/trivy/db/{trivy.db,metadata.json} made by trivy-db (built from
#                 the module proxy at the version trivy itself depends on)
#                 and <out>/trivy/java-db (sha1 → Maven coordinates of the jars in
#                 $IMAGEWRIGHT_CACHE/maven, the Kafka fixture's Maven Central downloads)
#   osv-scanner:  <out>/osv-scanner/osv-scalibr/<Ecosystem>/all.zip (its --local-db-path layout
#                 since v2 matches through osv-scalibr; osv-scanner/ links to it for older ones)
# Skipped when the fixtures and this script have not changed since the last build.
#
#   stack/scanners-db.sh           prints the output directory
#   IMAGEWRIGHT_SCANNER_DB=dir     where to build (default $IMAGEWRIGHT_CACHE/scanners-db)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"

out=${IMAGEWRIGHT_SCANNER_DB:-$IMAGEWRIGHT_CACHE/scanners-db}
fixtures="$root/fixtures/advisories"
node="$root/node_modules/.bin/node"
# trivy-db's schema must be the one trivy was built against: the version trivy's go.mod requires.
trivy_db_module=github.com/aquasecurity/trivy-db
trivy_db_version=v0.0.0-20250929072116-eba1ced2340a
bin="$IMAGEWRIGHT_CACHE/scanners-db-tools"

# Test files run in parallel and may all ask for the databases at once.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9

# Rebuilt when the sources change, and daily: a scan refuses a database older than its --max-db-age.
key=$( (date -u +%F; cat "$0" "$root/test/scan/advisory-db.ts"; find "$fixtures" -type f | LC_ALL=C sort | xargs cat; find "$IMAGEWRIGHT_CACHE/maven" -name '*.jar' 2>/dev/null | LC_ALL=C sort) | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && [ -f "$out/trivy/db/trivy.db" ]; then
  printf '%s\n' "$out"
  exit 0
fi

build_trivy_db() {
  if [ "$(cat "$bin/.trivy-db.version" 2>/dev/null)" = "$trivy_db_version" ] && [ -x "$bin/trivy-db" ]; then return 0; fi
  say "building trivy-db $trivy_db_version from the Go module proxy"
  local source
  source=$(GOTOOLCHAIN=local go mod download -json "$trivy_db_module@$trivy_db_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$bin"
  (cd "$source" && GOBIN="$bin" GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local go install ./cmd/trivy-db)
  printf '%s\n' "$trivy_db_version" >"$bin/.trivy-db.version"
}

build_trivy_db
scratch=$(mktemp -d "${out%/}.build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
maven="$IMAGEWRIGHT_CACHE/maven"
"$node" "$root/test/scan/advisory-db.ts" "$fixtures" "$scratch/input" "$maven" >&2

# trivy: debian (tracker), nvd (CVSS), ghsa (Maven) are the sources our fixtures feed.
mkdir -p "$scratch/db/trivy/db"
"$bin/trivy-db" build --only-update debian --only-update nvd --only-update ghsa --cache-dir "$scratch/input/vuln-list" \
  --output-dir "$scratch/db/trivy/db" --update-interval 24h >"$scratch/trivy-db.log" 2>&1 ||
  { cat "$scratch/trivy-db.log" >&2; exit 1; }
# What trivy checks before using a DB it may not download: schema version and dates.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
next=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version":2,"NextUpdate":"%s","UpdatedAt":"%s","DownloadedAt":"%s"}\n' "$next" "$now" "$now" >"$scratch/db/trivy/db/metadata.json"
# trivy's Java DB (sha1 → Maven coordinates) indexes the jars stack/kafka-fixture.sh fetched from Maven Central.
mv "$scratch/input/java-db" "$scratch/db/trivy/java-db"
printf '{"Version":1,"NextUpdate":"%s","UpdatedAt":"%s","DownloadedAt":"%s"}\n' "$next" "$now" "$now" >"$scratch/db/trivy/java-db/metadata.json"

# osv-scanner: one all.zip of OSV records per ecosystem (written by advisory-db.ts).
mkdir -p "$scratch/db/osv-scanner"
mv "$scratch/input/osv-scalibr" "$scratch/db/osv-scanner/osv-scalibr"
ln -s osv-scalibr "$scratch/db/osv-scanner/osv-scanner"

printf '%s\n' "$key" >"$scratch/db/.key"
rm -rf "$out"
mv "$scratch/db" "$out"
say "scanner databases in $out"
printf '%s\n' "$out"
