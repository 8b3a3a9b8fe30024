#!/usr/bin/env bash
# Starts (or stops) the servers of the distributed mode on free loopback ports, in a private
# directory, for tests and local clusters:
#   redis-server, mariadbd (database `roomcast`, user `roomcast` with a random password) and
#   roomcast-kafka-mock (3 brokers, topic roomcast-messages with 8 partitions).
#
#   scripts/test-servers.sh start DIR   # writes DIR/env (sourceable) and DIR/mysql.env
#   scripts/test-servers.sh stop DIR
#   scripts/test-servers.sh restart-mysql DIR   # same port and data (tests of reconnection)
#
# DIR/env holds ROOMCAST_REDIS, ROOMCAST_MYSQL_{HOST,PORT,USER,DATABASE,PASSWORD,SOCKET},
# ROOMCAST_KAFKA_BROKERS, ROOMCAST_KAFKA_CONTROL (the mock's control port) and
# ROOMCAST_TEST_SERVERS (DIR). The password is random per start and lives only in DIR (mode 600).
# ROOMCAST_KAFKA_MOCK may point at the roomcast-kafka-mock binary (default: build/ next to this
# script's repository).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop|restart-mysql DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
mock=${ROOMCAST_KAFKA_MOCK:-$here/build/roomcast-kafka-mock}

# free_port: a loopback port nobody listens on now, below the ephemeral range.
# shellcheck source=free-port.sh
source "$here/scripts/free-port.sh"

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$what did not become ready" >&2
  return 1
}

mysql_admin() { mariadb-admin --no-defaults --socket="$dir/mysql/mysqld.sock" -uroot "$@"; }

start_mariadbd() {
  mariadbd --no-defaults --user=root --datadir="$dir/mysql/data" --socket="$dir/mysql/mysqld.sock" \
    --port="$1" --bind-address=127.0.0.1 --pid-file="$dir/mysql/mysqld.pid" \
    --log-error="$dir/mysql/mysqld.err" --skip-name-resolve \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
    >/dev/null 2>&1 &
  wait_for 60 mariadbd mysql_admin ping
}

stop_pidfile() {  # stop_pidfile FILE: TERM the process and wait for it to exit
  local f=$1 pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

case "$cmd" in
start)
  mkdir -p "$dir/redis" "$dir/mysql" "$dir/kafka"
  chmod 700 "$dir"
  [[ -x "$mock" ]] || { echo "missing $mock (ninja -C build roomcast-kafka-mock)" >&2; exit 1; }

  # free_port cannot see a port another process is about to take (or an outgoing connection
  # holds): a Redis that did not come up is tried again on another port, its log shown.
  for attempt in 1 2 3; do
    redis_port=$(free_port)
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir/redis" --daemonize yes \
      --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save '' --appendonly no ||
      true
    if wait_for 10 redis-server sh -c "redis-cli -p $redis_port ping | grep -q PONG"; then break; fi
    echo "redis-server on port $redis_port (attempt $attempt):" >&2
    tail -5 "$dir/redis/redis.log" >&2 2>/dev/null || true
    stop_pidfile "$dir/redis/redis.pid"
    [[ $attempt -lt 3 ]] || exit 1
  done

  mysql_port=$(free_port)
  mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/mysql/install.log" 2>&1
  start_mariadbd "$mysql_port"
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  mariadb --no-defaults --socket="$dir/mysql/mysqld.sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS roomcast CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'roomcast'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS 'roomcast'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON roomcast.* TO 'roomcast'@'127.0.0.1';
GRANT ALL ON roomcast.* TO 'roomcast'@'localhost';
SQL
  (umask 077; printf 'ROOMCAST_MYSQL_PASSWORD=%s\n' "$password" >"$dir/mysql.env")
  echo "$mysql_port" >"$dir/mysql/port"

  control_port=$(free_port)
  "$mock" --brokers 3 --topic roomcast-messages --partitions 8 \
    --bootstrap-file "$dir/kafka/bootstrap" --control-port "$control_port" \
    >"$dir/kafka/mock.out" 2>"$dir/kafka/mock.log" &
  echo $! >"$dir/kafka/mock.pid"
  wait_for 10 roomcast-kafka-mock test -s "$dir/kafka/bootstrap"

  (umask 077; cat >"$dir/env" <<ENV
ROOMCAST_TEST_SERVERS=$dir
ROOMCAST_REDIS=127.0.0.1:$redis_port
ROOMCAST_MYSQL_HOST=127.0.0.1
ROOMCAST_MYSQL_PORT=$mysql_port
ROOMCAST_MYSQL_USER=roomcast
ROOMCAST_MYSQL_DATABASE=roomcast
ROOMCAST_MYSQL_PASSWORD=$password
ROOMCAST_MYSQL_SOCKET=$dir/mysql/mysqld.sock
ROOMCAST_KAFKA_BROKERS=$(cat "$dir/kafka/bootstrap")
ROOMCAST_KAFKA_CONTROL=127.0.0.1:$control_port
ENV
)
  echo "servers up in $dir (source $dir/env)"
  ;;
restart-mysql)
  port=$(cat "$dir/mysql/port")
  mysql_admin shutdown || true
  for _ in $(seq 1 100); do [[ -f "$dir/mysql/mysqld.pid" ]] || break; sleep 0.1; done
  start_mariadbd "$port"
  ;;
stop)
  if [[ -f "$dir/redis/redis.pid" ]]; then
    port=$(grep ROOMCAST_REDIS= "$dir/env" 2>/dev/null | cut -d: -f2 || true)
    [[ -n "$port" ]] && redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    stop_pidfile "$dir/redis/redis.pid"
  fi
  if [[ -S "$dir/mysql/mysqld.sock" ]]; then mysql_admin shutdown >/dev/null 2>&1 || true; fi
  stop_pidfile "$dir/mysql/mysqld.pid"
  stop_pidfile "$dir/kafka/mock.pid"
  ;;
*)
  echo "usage: $0 start|stop|restart-mysql DIR" >&2; exit 2 ;;
esac
