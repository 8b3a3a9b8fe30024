#!/usr/bin/env bash
# A roomcast cluster on 127.0.0.1, every server with a private data dir under one folder:
# redis-server, mariadbd, roomcast-kafka-mock (3 brokers), nginx as the entry point, and
# COMETS comets, LOGICS logics and JOBS jobs (2 each by default).
#
#   deploy/local-cluster.sh up       start what is not running (a dead node, or more nodes when a
#                                    count was raised); prints the URL
#   deploy/local-cluster.sh status   one line per process: role id pid address
#   deploy/local-cluster.sh down     stop everything (data is kept for the next `up`)
#
# Environment: CLUSTER_DIR (deploy/cluster), PORT (8080, nginx's public port), COMETS, LOGICS, JOBS
# (default: the counts of the previous `up`, else 2), ROOMCAST_BIN, KAFKA_MOCK (built binaries),
# PASSWORD_COST (interactive), LOG_LEVEL (info), LOG_FORMAT (text; json: one object per line, in
# each node's $CLUSTER_DIR/nodes/<id>/log), KAFKA_PARTITIONS (8), LIMITS_PER_ADDRESS (1; 0
# lifts the per-client-address limits: the test profile of suites and benches that make many
# accounts and connections from one address), ROOM_CREATIONS_PER_MINUTE (10 per user; 0 lifts
# it, as the bench does). nginx (127.0.0.1) is the nodes' trusted proxy.
# Only nginx listens on the public port; Redis, MariaDB, Kafka, gRPC and Logic REST listen on
# loopback ports of their own. Secrets (MariaDB and Redis passwords, admin and metrics tokens,
# the CA and certificate of the nodes' mutual TLS) are generated at the first start into
# $CLUSTER_DIR/secrets by deploy/gen-secrets.sh, never stored in the repository. Redis
# refuses clients without the `roomcast` ACL user; gRPC refuses peers without the cluster's
# certificate.
# `status` shows each node's HTTP address: /metrics (with the metrics token), /healthz and
# /readyz are served there (a job's listener serves only these), never through nginx.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
D="$(mkdir -p "${CLUSTER_DIR:-$here/cluster}" && cd "${CLUSTER_DIR:-$here/cluster}" && pwd)"
BIN="${ROOMCAST_BIN:-$repo/build/roomcast}"
KAFKA_MOCK="${KAFKA_MOCK:-$(dirname "$BIN")/roomcast-kafka-mock}"
mkdir -p "$D/ports" "$D/secrets" "$D/nodes"
chmod 700 "$D/secrets"
bash "$here/gen-secrets.sh" "$D/secrets" >/dev/null

log() { echo "local-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=../scripts/free-port.sh
source "$repo/scripts/free-port.sh"
# A port handed out already (kept in $D/ports, whether or not its server runs now).
port_kept() { grep -qx "$1" "$D"/ports/* 2>/dev/null; }
# A port from the file `name`, else a free one (kept, so restarts reuse it).
port_of() {
  local f="$D/ports/$1" p
  if [[ -s "$f" ]]; then cat "$f"; return; fi
  p=$(free_port port_kept) || die "no free port found"
  echo "$p" >"$f"
  echo "$p"
}

alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local t=$(($1 * 10)) what=$2; shift 2
  for _ in $(seq "$t"); do "$@" && return 0; sleep 0.1; done
  die "$what did not come up in time"
}
secret() {  # secret NAME: generated once, readable only by the owner
  local f="$D/secrets/$1"
  [[ -s "$f" ]] || (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$f")
  cat "$f"
}
count() {  # count ROLE: from the environment, else the last `up`, else 2
  local var; var=$(echo "$1" | tr a-z A-Z)S
  local v="${!var:-}"
  [[ -n "$v" ]] || v=$(cat "$D/count.$1" 2>/dev/null || echo 2)
  echo "$v" >"$D/count.$1"
  echo "$v"
}

start_redis() {
  local dir="$D/redis" port; port=$(port_of redis); mkdir -p "$dir"
  alive "$dir/redis.pid" && return 0
  # Only the ACL user `roomcast` may do anything, and only on roomcast's keys (rc:*, the whole
  # schema is src/store/redis_keys.h); the default (passwordless) user is off.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no \
    --user default off --user roomcast on ">$(secret redis_password)" '~rc:*' '&*' '+@all' >/dev/null
  wait_until 10 redis redis_cli ping >/dev/null
}

redis_cli() {  # redis-cli as the cluster's ACL user
  REDISCLI_AUTH="$(secret redis_password)" redis-cli --no-auth-warning --user roomcast \
    -p "$(port_of redis)" "$@"
}

start_mysql() {
  local dir="$D/mysql" port; port=$(port_of mysql); mkdir -p "$dir"
  alive "$dir/mysqld.pid" && return 0
  local pw; pw=$(secret mysql_password)
  if [[ ! -d "$dir/data/mysql" ]]; then
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed (see $dir/install.log)"
  fi
  # A server that was just stopped may still hold the data dir's locks for a moment: retry.
  local attempt pid ok=0
  for attempt in 1 2 3 4 5; do
    nohup mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" --socket="$dir/mysqld.sock" \
      --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" \
      --log-error="$dir/mysqld.err" --skip-name-resolve --max-connections=500 \
      --innodb-buffer-pool-size=128M >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 600); do
      if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping --silent >/dev/null 2>&1; then
        ok=1
        break
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    ((ok)) && break
    log "mariadbd did not start (attempt $attempt), retrying"
    sleep 1
  done
  ((ok)) || die "mariadbd did not start (see $dir/mysqld.err)"
  # mariadb-install-db leaves anonymous users and a password-less root on TCP: only the
  # roomcast user (with its password) may connect over the network; root keeps the socket.
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot <<SQL
DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host<>'localhost');
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS roomcast CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'roomcast'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'roomcast'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL ON roomcast.* TO 'roomcast'@'127.0.0.1';
GRANT ALL ON roomcast.* TO 'roomcast'@'localhost';
SQL
}

# Returns 0 when the mock was (re)started: its broker ports are new, so Kafka clients restart.
start_kafka() {
  local dir="$D/kafka" port; port=$(port_of kafka_control); mkdir -p "$dir"
  alive "$dir/kafka.pid" && return 1
  [[ -x "$KAFKA_MOCK" ]] || die "no $KAFKA_MOCK (build it: ninja -C build roomcast-kafka-mock)"
  rm -f "$dir/bootstrap"
  # The chat records' topic and the presence topic (roomcast.presence: online/offline events).
  setsid nohup "$KAFKA_MOCK" --brokers 3 --partitions "${KAFKA_PARTITIONS:-8}" \
    --topic roomcast-messages --topic roomcast.presence \
    --bootstrap-file "$dir/bootstrap" --control-port "$port" >"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  wait_until 15 kafka-mock test -s "$dir/bootstrap"
  return 0
}

node_env() {
  cat <<EOF
ROOMCAST_REDIS=127.0.0.1:$(port_of redis)
ROOMCAST_REDIS_USER=roomcast
ROOMCAST_REDIS_PASSWORD=$(secret redis_password)
ROOMCAST_INTERNAL_TLS_DIR=$D/secrets/tls
ROOMCAST_MYSQL_HOST=127.0.0.1
ROOMCAST_MYSQL_PORT=$(port_of mysql)
ROOMCAST_MYSQL_USER=roomcast
ROOMCAST_MYSQL_PASSWORD=$(secret mysql_password)
ROOMCAST_MYSQL_DATABASE=roomcast
ROOMCAST_KAFKA_BROKERS=$(cat "$D/kafka/bootstrap")
ROOMCAST_ADMIN_TOKEN=$(secret admin_token)
ROOMCAST_METRICS_TOKEN=$(secret metrics_token)
ROOMCAST_PASSWORD_COST=${PASSWORD_COST:-interactive}
ROOMCAST_TRUSTED_PROXIES=127.0.0.1
ROOMCAST_LIMITS_PER_ADDRESS=${LIMITS_PER_ADDRESS:-1}
ROOMCAST_LOG_LEVEL=${LOG_LEVEL:-info}
ROOMCAST_LOG_FORMAT=${LOG_FORMAT:-text}
ROOMCAST_LIMITS_ROOM_CREATIONS_PER_MINUTE=${ROOM_CREATIONS_PER_MINUTE:-10}
ROOMCAST_KAFKA_SESSION_TIMEOUT_MS=${KAFKA_SESSION_TIMEOUT_MS:-6000}
ROOMCAST_KAFKA_HEARTBEAT_MS=2000
ROOMCAST_GRPC_LISTEN=127.0.0.1:0
ROOMCAST_ADVERTISE_HOST=127.0.0.1
EOF
}

# start_node ROLE N: starts <role>-<n> unless it runs. Returns 0 when it was started.
start_node() {
  local role=$1 n=$2 id="$1-$2" dir="$D/nodes/$1-$2"
  mkdir -p "$dir"
  alive "$dir/pid" && return 1
  touch "$dir/log"
  wc -l <"$dir/log" >"$dir/log.start"  # where this run's output begins
  local args=("$role" --node-id "$id" --data-dir "$dir")
  case $role in
    comet) args+=(--listen "127.0.0.1:$(port_of "$id")") ;;
    logic) args+=(--logic-http-listen "127.0.0.1:$(port_of "$id")") ;;
    job) args+=(--http-listen "127.0.0.1:$(port_of "$id")") ;;  # /metrics, /healthz, /readyz
  esac
  (
    set -a
    # shellcheck disable=SC1090
    source <(node_env)
    set +a
    exec setsid nohup "$BIN" "${args[@]}" >>"$dir/log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/pid"
  return 0
}

# Waits until node ID listens on its public port; fails at once when it exits.
wait_node() {
  local id=$1 port; port=$(port_of "$1")
  for _ in $(seq 600); do
    listening "$port" && return 0
    alive "$D/nodes/$id/pid" || die "$id exited: $(tail -5 "$D/nodes/$id/log")"
    sleep 0.1
  done
  die "$id did not listen on $port within 60 s"
}

# Waits until a started job has joined the consumer group (partitions assigned).
wait_job() {
  local dir="$D/nodes/$1" from
  from=$(($(cat "$dir/log.start") + 1))
  for _ in $(seq 600); do
    tail -n +"$from" "$dir/log" | grep -q "partitions assigned" && return 0
    alive "$dir/pid" || die "$1 exited: $(tail -5 "$dir/log")"
    sleep 0.1
  done
  die "$1 did not join the consumer group within 60 s"
}

write_nginx() {
  local dir="$D/nginx" comets="" logics="" n
  mkdir -p "$dir/tmp"
  for n in $(seq "$(cat "$D/count.comet")"); do
    comets+="    server 127.0.0.1:$(port_of "comet-$n") max_fails=1 fail_timeout=3s;"$'\n'
  done
  for n in $(seq "$(cat "$D/count.logic")"); do
    logics+="    server 127.0.0.1:$(port_of "logic-$n") max_fails=1 fail_timeout=3s;"$'\n'
  done
  local conf; conf=$(<"$here/nginx.conf")
  conf=${conf//@DIR@/$dir}
  conf=${conf//@LISTEN@/127.0.0.1:${PORT:-$(cat "$D/ports/nginx" 2>/dev/null || echo 8080)}}
  conf=${conf//@COMETS@/${comets%$'\n'}}
  conf=${conf//@LOGICS@/${logics%$'\n'}}
  if [[ $(id -u) == 0 ]]; then conf=${conf//@USER@/user root;}; else conf=${conf//@USER@/}; fi
  local new="$dir/nginx.conf.new"
  echo "$conf" >"$new"
  if cmp -s "$new" "$dir/nginx.conf"; then rm -f "$new"; return 1; fi
  mv "$new" "$dir/nginx.conf"
  return 0
}

start_nginx() {
  local dir="$D/nginx" changed=0
  echo "${PORT:-$(cat "$D/ports/nginx" 2>/dev/null || echo 8080)}" >"$D/ports/nginx"
  write_nginx && changed=1
  if alive "$dir/nginx.pid"; then
    if ((changed)); then
      nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -t -q
      nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -s reload
      log "nginx reloaded with the new upstreams"
    fi
    return 0
  fi
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
  wait_until 10 nginx listening "$(cat "$D/ports/nginx")"
}

cmd_up() {
  command -v redis-server >/dev/null || die "redis-server is missing (scripts/install-deps.sh)"
  [[ -x "$BIN" ]] || die "no $BIN (build it: ninja -C build)"
  local t0=$SECONDS comets logics jobs n kafka_new=0
  comets=$(count comet); logics=$(count logic); jobs=$(count job)
  start_redis
  start_mysql
  start_kafka && kafka_new=1
  if ((kafka_new)); then
    # New broker ports: Kafka clients started against the old mock must start over.
    for dir in "$D"/nodes/logic-* "$D"/nodes/job-*; do
      [[ -d $dir ]] && alive "$dir/pid" && stop_pid "$dir/pid"
    done
  fi
  local started=()
  # Logics first: comets authenticate through them; the schema is created by the first one.
  for n in $(seq "$logics"); do start_node logic "$n" && started+=("logic-$n"); done
  for n in $(seq "$logics"); do wait_node "logic-$n"; done
  for n in $(seq "$jobs"); do start_node job "$n" && started+=("job-$n"); done
  for n in $(seq "$comets"); do start_node comet "$n" && started+=("comet-$n"); done
  for n in $(seq "$comets"); do wait_node "comet-$n"; done
  start_nginx
  for id in "${started[@]}"; do [[ $id == job-* ]] && wait_job "$id"; done
  for id in "${started[@]}"; do
    alive "$D/nodes/$id/pid" || die "$id exited: $(tail -5 "$D/nodes/$id/log")"
  done
  ((${#started[@]})) && log "started ${started[*]} in $((SECONDS - t0)) s"
  echo "roomcast cluster up: http://127.0.0.1:$(cat "$D/ports/nginx") (data in $D)"
}

stop_pid() {  # SIGTERM, then SIGKILL after 10 s
  local pid; pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_down() {
  local pids=() dir
  # Comets first (SIGINT: clients get 1001 at once; SIGTERM would drain them over
  # drain_window_ms to the other comets, which are stopping too), then jobs (finish their
  # batch), then logics.
  local sig
  for role in comet job logic; do
    sig=TERM
    [[ $role == comet ]] && sig=INT
    for dir in "$D"/nodes/"$role"-*; do
      [[ -d $dir ]] && alive "$dir/pid" || continue
      kill -s "$sig" "$(cat "$dir/pid")"
      pids+=("$dir/pid")
    done
  done
  for p in "${pids[@]}"; do stop_pid "$p"; done
  alive "$D/nginx/nginx.pid" && nginx -p "$D/nginx" -c "$D/nginx/nginx.conf" -e "$D/nginx/error.log" -s quit
  alive "$D/kafka/kafka.pid" && stop_pid "$D/kafka/kafka.pid"
  if alive "$D/mysql/mysqld.pid"; then
    mariadb-admin --no-defaults --socket="$D/mysql/mysqld.sock" -uroot shutdown || stop_pid "$D/mysql/mysqld.pid"
  fi
  alive "$D/redis/redis.pid" && { redis_cli shutdown nosave >/dev/null 2>&1 || stop_pid "$D/redis/redis.pid"; }
  log "stopped"
}

cmd_status() {
  line() {  # role id pidfile address
    local pid="-"
    alive "$3" && pid=$(cat "$3")
    [[ $pid == - ]] && pid="down"
    echo "$1 $2 $pid $4"
  }
  line redis redis "$D/redis/redis.pid" "127.0.0.1:$(cat "$D/ports/redis" 2>/dev/null)"
  line mysql mysql "$D/mysql/mysqld.pid" "127.0.0.1:$(cat "$D/ports/mysql" 2>/dev/null)"
  line kafka kafka-mock "$D/kafka/kafka.pid" "$(cat "$D/kafka/bootstrap" 2>/dev/null)"
  line nginx nginx "$D/nginx/nginx.pid" "127.0.0.1:$(cat "$D/ports/nginx" 2>/dev/null)"
  local dir id
  for role in comet logic job; do
    for dir in $(ls -d "$D"/nodes/"$role"-* 2>/dev/null | sort -V); do
      id=$(basename "$dir")
      local addr="-"
      [[ -s "$D/ports/$id" ]] && addr="127.0.0.1:$(cat "$D/ports/$id")"
      line "$role" "$id" "$dir/pid" "$addr"
    done
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
