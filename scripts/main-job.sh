#!/usr/bin/env bash
# The README's main job, unattended on a fresh machine: bring up the stack (Docker Engine,
# registry, BuildKit, base images, Kafka fixture, scanners), serve the fixture Kafka
# tarball on loopback as the "RC tarball URL", cut release candidate N of Kafka 4.1.0 with
# `release rc`, show the evaluation report, promote it by digest with `release promote`,
# and ask `compat resolve` which image an operator gets — on examples/catalog's defaults.
# Exits non-zero when any step fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
exec </dev/null

step() { printf '\n==> %s\n' "$*" >&2; }
run() {
  printf '+ %s\n' "$*" >&2
  "$@"
}

step "toolchain: Node 24 from node_modules"
if [ ! -x node_modules/.bin/node ]; then run npm ci --no-audit --no-fund; fi
export PATH="$root/node_modules/.bin:$PATH"
imagewright() { node "$root/bin/imagewright.ts" "$@"; }

step "stack: Docker Engine, registry 127.0.0.1:5000, BuildKit, base images, Kafka fixtures"
run bash stack/up.sh
step "stack: scanners (trivy, grype, osv-scanner, syft) and their offline advisory databases"
# The candidate is scanned with trivy: the job goes on when only another scanner would not build.
if ! run bash stack/tools.sh scanners; then
  echo "main-job: not every scanner was built; going on with trivy" >&2
fi
tools=$(bash -c 'source stack/lib.sh && echo "$IMAGEWRIGHT_TOOLS"')
if [ ! -x "$tools/bin/trivy" ]; then echo "main-job: trivy was not built ($tools/bin/trivy)" >&2; exit 1; fi
IMAGEWRIGHT_SCANNER_DB=$(bash stack/scanners-db.sh | tail -n 1)
export IMAGEWRIGHT_SCANNER_DB

catalog=examples/catalog
version=4.1.0
work=$(mktemp -d "${TMPDIR:-/tmp}/imagewright-main-job.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

step "the RC tarball: the fixture Kafka $version release served on loopback"
tarball=$(bash stack/kafka-fixture.sh "$version" | tail -n 1)
url=""
for port in $(seq 15790 15799); do
  node test/release/serve-fixture.ts "$(dirname "$tarball")" "$port" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 50); do
    if [ -s "$work/server.out" ] || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -s "$work/server.out" ]; then url="$(head -n 1 "$work/server.out")$(basename "$tarball")"; break; fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done
if [ -z "$url" ]; then echo "main-job: no free port in 15790-15799 for the tarball server" >&2; exit 1; fi
echo "RC tarball URL: $url (checksum: $url.sha512)" >&2

# kafka-native needs a GraalVM builder image this machine cannot get (docs/kafka.md):
# the candidate is cut for the JVM image; with GRAALVM_IMAGE in the registry, drop --image.
step "release rc kafka $version: verify, build, push for evaluation, test, scan, record, report"
run imagewright --json release rc kafka "$version" --catalog "$catalog" --image kafka \
  --artifact-url "$url" --ignore-file scripts/release-accepted-findings.yaml \
  --report-dir "$work/report" >"$work/rc.json"
rc_tag=$(node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); console.log(r.images[0].rcTag)' "$work/rc.json")

step "the evaluation report for the vote ($work/report)"
cat "$work/report/evaluation-report.md"

step "release promote kafka $rc_tag --to $version: every tag it would write"
set +e
imagewright release promote kafka "$rc_tag" --to "$version" --catalog "$catalog" --image kafka --dry-run
dry=$?
set -e
if [ "$dry" = 5 ]; then
  # An earlier run of this job released $version already: the release tag is immutable, so
  # replacing it is an explicit, recorded decision (a real release would cut a new image version).
  step "the release tag exists from an earlier run of this job: promoting with a recorded --force"
  run imagewright release promote kafka "$rc_tag" --to "$version" --catalog "$catalog" --image kafka \
    --force --reason "main job re-run on $(date -u +%Y-%m-%dT%H:%M:%SZ): re-release of the example"
elif [ "$dry" = 0 ]; then
  step "release promote: copy by digest, tags last"
  run imagewright release promote kafka "$rc_tag" --to "$version" --catalog "$catalog" --image kafka
else
  exit "$dry"
fi
step "release promote again: idempotent, writes nothing"
run imagewright release promote kafka "$rc_tag" --to "$version" --catalog "$catalog" --image kafka

step "compat resolve: which Kafka $version image operator 0.2.0 gets"
run imagewright compat resolve --operator 0.2.0 kafka "$version" --configmap examples/compat/configmap.yaml

step "done: reports in $work/report"
