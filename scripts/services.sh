#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the e2e test suites, on 127.0.0.1 only.
#
#   scripts/services.sh start [postgres] [redis] [redis-cluster]
#                                                  start them (all by default), print the env
#   scripts/services.sh restart redis              stop Redis and start it again with its data
#   scripts/services.sh env                        print `export DATABASE_URL=… REDIS_URL=…`
#   scripts/services.sh stop                       stop them and delete their data
#   source scripts/services.sh start               the same, exporting the variables into the
#                                                  current shell
#   eval "$(scripts/services.sh env)"              export them after an earlier `start`
#
# `redis-cluster` is a Redis Cluster of three masters without replicas (REDIS_CLUSTER_NODES, the
# masters' host:port separated by commas), for the cluster suites of @better-auth/store-redis.
#
# Each server lives in its own mktemp directory (data, socket, log) on a free port and is gone
# after `stop`; nothing is installed or left behind. A server whose binaries are missing is
# skipped with a message naming the test suites that will then be skipped. What was started is
# recorded in $BETTER_AUTH_SERVICES_STATE (default: one file per checkout under $TMPDIR), so
# several checkouts, or several runs that each set their own state file, never collide.

_ba_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_ba_state=${BETTER_AUTH_SERVICES_STATE:-${TMPDIR:-/tmp}/better-auth-services-$(printf '%s' "$_ba_root" | cksum | cut -d' ' -f1).env}

_ba_log() { echo "services: $*" >&2; }

_ba_free_port() {
  # Node is always here (the project needs it); the port is free when we look, and the servers
  # are started right after.
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

_ba_pg_bindir() {
  local dir
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/postgres" ]; then
    echo "$PG_BINDIR"
    return 0
  fi
  # Debian installs the server outside PATH, one directory per major version: take the newest.
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
    return 0
  fi
  if command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v postgres)"
    return 0
  fi
  return 1
}

# initdb and postgres refuse to run as root: as root, run them as an unprivileged system user.
_ba_pg_user() {
  if [ "$(id -u)" -ne 0 ]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    echo nobody
  fi
}

_ba_as() {
  local user=$1
  shift
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$user" -- "$@"
  else
    su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
  fi
}

_ba_state_get() {
  [ -f "$_ba_state" ] && sed -n "s/^$1=//p" "$_ba_state" | tail -n 1
}

_ba_start_postgres() {
  local bindir user dir port
  if ! bindir=$(_ba_pg_bindir); then
    _ba_log "PostgreSQL server binaries not found (Debian package 'postgresql');" \
      "the @better-auth/store-postgres e2e suites will be skipped"
    return 1
  fi
  user=$(_ba_pg_user)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/better-auth-postgres.XXXXXX") || return 1
  chown "$user" "$dir" 2>/dev/null || true
  port=$(_ba_free_port) || return 1
  if ! _ba_as "$user" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync >"$dir/initdb.log" 2>&1; then
    _ba_log "initdb failed:"
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  fi
  # fsync and friends off: the data is thrown away, and the suites run much faster.
  if ! _ba_as "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
    _ba_log "PostgreSQL failed to start:"
    cat "$dir/postgres.log" >&2
    rm -rf "$dir"
    return 1
  fi
  local tries=0
  until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ]; then
      _ba_log "PostgreSQL did not become ready on 127.0.0.1:$port"
      _ba_as "$user" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
      rm -rf "$dir"
      return 1
    fi
    sleep 0.1
  done
  {
    echo "PG_BINDIR_USED=$bindir"
    echo "PG_USER=$user"
    echo "PG_DIR=$dir"
    echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
  } >>"$_ba_state"
  _ba_log "PostgreSQL on 127.0.0.1:$port ($dir)"
}

# Persistence as the README of @better-auth/store-redis recommends, and as RedisStores.connect
# requires: the append-only file, fsynced every second, so that spent access nonces and refresh
# keys survive a restart. (RDB snapshots are off: the AOF alone is the durable copy.)
_ba_redis_server() {
  local dir=$1 port=$2
  shift 2
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly yes \
    --appendfsync everysec --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" "$@" >/dev/null
}

_ba_start_redis() {
  local dir port
  if ! command -v redis-server >/dev/null 2>&1; then
    _ba_log "redis-server not found (Debian package 'redis-server');" \
      "the @better-auth/store-redis e2e suites will be skipped"
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/better-auth-redis.XXXXXX") || return 1
  port=$(_ba_free_port) || return 1
  if ! _ba_redis_server "$dir" "$port"; then
    _ba_log "redis-server failed to start"
    rm -rf "$dir"
    return 1
  fi
  if ! _ba_redis_wait "$dir" "$port"; then
    _ba_stop_redis "$dir"
    return 1
  fi
  {
    echo "REDIS_DIR=$dir"
    echo "REDIS_URL=redis://127.0.0.1:$port"
  } >>"$_ba_state"
  _ba_log "Redis on 127.0.0.1:$port ($dir)"
}

# A plain restart of the Redis started earlier: SIGTERM (Redis shuts down as it would for any
# init system), then the same server on the same port and directory, with its data.
_ba_restart_redis() {
  local dir port pid
  dir=$(_ba_state_get REDIS_DIR)
  port=$(_ba_state_get REDIS_URL)
  port=${port##*:}
  if [ -z "$dir" ] || [ -z "$port" ]; then
    _ba_log "no Redis was started here"
    return 1
  fi
  pid=$(cat "$dir/redis.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  if kill -0 "$pid" 2>/dev/null; then
    _ba_log "Redis (pid $pid) did not stop"
    return 1
  fi
  _ba_redis_server "$dir" "$port" && _ba_redis_wait "$dir" "$port" &&
    _ba_log "Redis restarted on 127.0.0.1:$port ($dir)"
}

_ba_redis_wait() {
  local dir=$1 port=$2
  local tries=0
  # PONG once the data is loaded: before, Redis answers LOADING.
  until [ "$(_ba_redis_ping "$port")" = PONG ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ]; then
      _ba_log "Redis did not become ready on 127.0.0.1:$port:"
      cat "$dir/redis.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

_ba_redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null
  else
    node -e '
      const socket = require("node:net").connect(Number(process.argv[1]), "127.0.0.1")
      socket.on("connect", () => socket.write("PING\r\n"))
      socket.on("data", (data) => { process.stdout.write(String(data).trim().replace(/^\+/, "")); socket.end() })
      socket.on("error", () => process.exit(1))
    ' "$1" 2>/dev/null
  fi
}

_ba_stop_redis() {
  _ba_stop_redis_process "$1"
  rm -rf "$1"
}

_ba_stop_redis_process() {
  local dir=$1 pid
  pid=$(cat "$dir/redis.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# A port P such that P and P + 10000 (the cluster bus port Redis derives from it) are both free.
_ba_free_cluster_port() {
  node -e '
    const net = require("node:net")
    const free = (port) => new Promise((resolve) => {
      const s = net.createServer()
      s.once("error", () => resolve(false))
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)))
    })
    ;(async () => {
      for (let i = 0; i < 200; i += 1) {
        const port = 20000 + Math.floor(Math.random() * 30000)
        if ((await free(port)) && (await free(port + 10000))) return console.log(port)
      }
      process.exit(1)
    })()'
}

# Three masters, each in a directory of its own under one mktemp directory, with the same
# persistence settings as the single server; `redis-cli --cluster create` assigns the slots.
_ba_start_redis_cluster() {
  local dir port ports=() nodes=() tries
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    _ba_log "redis-server or redis-cli not found (Debian package 'redis-server');" \
      "the @better-auth/store-redis cluster suites will be skipped"
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/better-auth-redis-cluster.XXXXXX") || return 1
  for _ in 1 2 3; do
    port=$(_ba_free_cluster_port) || { _ba_stop_redis_cluster "$dir"; return 1; }
    mkdir -p "$dir/$port"
    if ! _ba_redis_server "$dir/$port" "$port" --cluster-enabled yes \
      --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 5000 ||
      ! _ba_redis_wait "$dir/$port" "$port"; then
      _ba_log "redis-server (cluster node on port $port) failed to start"
      _ba_stop_redis_cluster "$dir"
      return 1
    fi
    ports+=("$port")
    nodes+=("127.0.0.1:$port")
  done
  if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    >"$dir/create.log" 2>&1; then
    _ba_log "redis-cli --cluster create failed:"
    cat "$dir/create.log" >&2
    _ba_stop_redis_cluster "$dir"
    return 1
  fi
  # Every node must know the whole slot map before a client asks it for one.
  for port in "${ports[@]}"; do
    tries=0
    until redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; do
      tries=$((tries + 1))
      if [ "$tries" -ge 200 ]; then
        _ba_log "the Redis Cluster did not become ready (node 127.0.0.1:$port)"
        _ba_stop_redis_cluster "$dir"
        return 1
      fi
      sleep 0.1
    done
  done
  {
    echo "REDIS_CLUSTER_DIR=$dir"
    echo "REDIS_CLUSTER_NODES=$(IFS=,; echo "${nodes[*]}")"
  } >>"$_ba_state"
  _ba_log "Redis Cluster on ${nodes[*]} ($dir)"
}

_ba_stop_redis_cluster() {
  local dir=$1 node
  for node in "$dir"/*/; do
    [ -f "$node/redis.pid" ] && _ba_stop_redis_process "$node"
  done
  rm -rf "$dir"
}

_ba_env() {
  local url
  url=$(_ba_state_get DATABASE_URL)
  [ -n "$url" ] && echo "export DATABASE_URL=$url"
  url=$(_ba_state_get REDIS_URL)
  [ -n "$url" ] && echo "export REDIS_URL=$url"
  url=$(_ba_state_get REDIS_CLUSTER_NODES)
  [ -n "$url" ] && echo "export REDIS_CLUSTER_NODES=$url"
  return 0
}

_ba_start() {
  local want_pg=0 want_redis=0 want_cluster=0 service
  [ $# -eq 0 ] && set -- postgres redis redis-cluster
  for service in "$@"; do
    case $service in
      postgres) want_pg=1 ;;
      redis) want_redis=1 ;;
      redis-cluster) want_cluster=1 ;;
      *)
        _ba_log "unknown service '$service' (postgres, redis, redis-cluster)"
        return 2
        ;;
    esac
  done
  if [ "$want_pg" -eq 1 ] && [ -n "$(_ba_state_get DATABASE_URL)" ]; then
    _ba_log "PostgreSQL already started ($(_ba_state_get PG_DIR))"
    want_pg=0
  fi
  if [ "$want_redis" -eq 1 ] && [ -n "$(_ba_state_get REDIS_URL)" ]; then
    _ba_log "Redis already started ($(_ba_state_get REDIS_DIR))"
    want_redis=0
  fi
  if [ "$want_cluster" -eq 1 ] && [ -n "$(_ba_state_get REDIS_CLUSTER_NODES)" ]; then
    _ba_log "Redis Cluster already started ($(_ba_state_get REDIS_CLUSTER_DIR))"
    want_cluster=0
  fi
  [ "$want_pg" -eq 1 ] && { _ba_start_postgres || true; }
  [ "$want_redis" -eq 1 ] && { _ba_start_redis || true; }
  [ "$want_cluster" -eq 1 ] && { _ba_start_redis_cluster || true; }
  _ba_env
}

_ba_stop() {
  local dir
  [ -f "$_ba_state" ] || return 0
  dir=$(_ba_state_get PG_DIR)
  if [ -n "$dir" ]; then
    _ba_as "$(_ba_state_get PG_USER)" "$(_ba_state_get PG_BINDIR_USED)/pg_ctl" -D "$dir/data" \
      -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
  dir=$(_ba_state_get REDIS_DIR)
  [ -n "$dir" ] && _ba_stop_redis "$dir"
  dir=$(_ba_state_get REDIS_CLUSTER_DIR)
  [ -n "$dir" ] && _ba_stop_redis_cluster "$dir"
  rm -f "$_ba_state"
}

_ba_main() {
  local command=${1:-}
  [ $# -gt 0 ] && shift
  case $command in
    start) _ba_start "$@" ;;
    restart)
      if [ "${1:-}" != redis ]; then
        _ba_log "restart supports redis only"
        return 2
      fi
      _ba_restart_redis
      ;;
    stop) _ba_stop ;;
    env) _ba_env ;;
    *)
      echo "usage: scripts/services.sh start [postgres] [redis] [redis-cluster] | restart redis | stop | env" >&2
      return 2
      ;;
  esac
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: run the command and export what it printed into the caller's shell. Never `exit`
  # here, which would end the caller's shell.
  if [ $# -gt 0 ]; then
    _ba_output=$(_ba_main "$@")
    _ba_status=$?
    [ -n "$_ba_output" ] && eval "$_ba_output"
    unset _ba_output
    (exit "$_ba_status")
  fi
else
  _ba_main "$@"
fi
