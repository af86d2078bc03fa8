#!/usr/bin/env bash
# Registry copy, promotion and pull: imagewright beside crane, regctl and skopeo.
# Needs the stack (docker-registry, skopeo, /usr/bin/time) and the Go tools from stack/tools.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export PATH="$root/node_modules/.bin:$PATH"
for need in /usr/bin/time skopeo docker-registry; do
  command -v "$need" >/dev/null || { echo "bench/registry: $need is missing (bash stack/up.sh installs it)" >&2; exit 1; }
done
exec node "$here/bench.ts" "$@"
