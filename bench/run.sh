#!/usr/bin/env bash
# Runs one benchmark by name: `bash bench/run.sh registry` runs bench/registry/run.sh,
# `bash bench/run.sh plan` runs bench/plan.ts. Results land in bench/results/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH="$here/../node_modules/.bin:$PATH"
name=${1:-}
[ -n "$name" ] || { echo "usage: bash bench/run.sh <name> [args...]   (names: $(cd "$here" && ls -d */ *.ts 2>/dev/null | sed 's#/$##; s#\.ts$##' | grep -v '^results$' | tr '\n' ' '))" >&2; exit 2; }
shift
if [ -x "$here/$name/run.sh" ]; then exec bash "$here/$name/run.sh" "$@"; fi
if [ -f "$here/$name.ts" ]; then exec node "$here/$name.ts" "$@"; fi
echo "bench/run.sh: no benchmark named $name" >&2
exit 2
