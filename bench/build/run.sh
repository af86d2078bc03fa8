#!/usr/bin/env bash
# The build benchmarks (`bash bench/run.sh build`): assembly of base + 200 MB beside
# crane append and docker build, then plan + bake-file generation for 10,000 versions.
# Needs the stack (bash stack/up.sh): the local Debian base, crane, Docker Engine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node "$here/assemble.ts" "$@"
node "$here/bake.ts"
