#!/usr/bin/env bash
# Shared pieces of the stack scripts: where state lives, waiting, and starting a
# Distribution registry on a loopback port.

# Everything expensive (tools, base rootfs, Kafka fixtures, Maven's repository) lives
# under IMAGEWRIGHT_CACHE so that CI can keep one directory between runs.
IMAGEWRIGHT_CACHE=${IMAGEWRIGHT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imagewright}
STACK_STATE=${IMAGEWRIGHT_STACK_STATE:-$IMAGEWRIGHT_CACHE/stack}
IMAGEWRIGHT_TOOLS=${IMAGEWRIGHT_TOOLS:-$IMAGEWRIGHT_CACHE/tools}
IMAGEWRIGHT_REGISTRY_PORT=${IMAGEWRIGHT_REGISTRY_PORT:-5000}
export IMAGEWRIGHT_CACHE STACK_STATE IMAGEWRIGHT_TOOLS IMAGEWRIGHT_REGISTRY_PORT

say() { printf 'stack: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# stack_lock NAME [FD]: waits for, then holds until the script ends, the lock NAME,
# so that two runs never do the same work at once (two mmdebstraps into one file, two
# daemons…). Each part has its own lock, so a long scanner build never holds up the
# rest. Daemons are started with fds 8 and 9 closed so that they never keep a lock.
stack_lock() {
  local name=$1 fd=${2:-9}
  mkdir -p "$IMAGEWRIGHT_CACHE/locks"
  eval "exec $fd>>\"\$IMAGEWRIGHT_CACHE/locks/\$name.lock\""
  flock "$fd"
}

# engine_api PATH: a GET on the Docker Engine API through its socket. Far cheaper than a
# docker CLI call (which costs about a second on a busy two-core machine); the warm
# path of up.sh uses it to stay fast.
engine_api() {
  local socket=/var/run/docker.sock
  case "${DOCKER_HOST:-}" in unix://*) socket=${DOCKER_HOST#unix://} ;; esac
  curl -fsS --unix-socket "$socket" "http://engine$1"
}

# wait_for NAME SECONDS COMMAND...: retries COMMAND until it succeeds or time runs out.
wait_for() {
  local name=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      say "$name did not become ready within ${seconds}s"
      return 1
    fi
    sleep 0.5
  done
}

# start_registry NAME PORT: a plain-HTTP Distribution registry on 127.0.0.1:PORT, storage under STACK_STATE.
start_registry() {
  local name=$1 port=$2
  local dir="$STACK_STATE/registry-$name"
  if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  say "starting registry $name on 127.0.0.1:$port"
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 8>&- 9>&- &
  echo $! >"$dir/pid"
  wait_for "registry $name" 30 curl -fsS "http://127.0.0.1:$port/v2/"
}
