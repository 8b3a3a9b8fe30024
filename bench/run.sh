#!/usr/bin/env bash
# roomcast benchmark runner (issue #5). Builds roomcast-bench, starts each server on loopback
# (roomcast standalone, nginx + nchan, a Socket.IO rooms server), runs the scenarios S1-S4
# against each, appends one JSON line per step to bench/out/results.jsonl and regenerates
# bench/RESULTS.md and bench/results.svg. Everything is bounded in time and count.
#
#   bash bench/run.sh [--short] [--targets "nchan socketio roomcast"] [--scenarios "S1 S2 S3 S4"]
#                     [--roomcast-bin PATH] [--nchan-workers N|auto] [--stop-p99-ms MS] [--no-report]
#                     [--perf]   (perf record of each server: bench/out/srv/<target>-<scenario>/perf.txt)
#                     [--nice N] (servers and client run under nice -n N, e.g. -5 on a busy machine)
# Environment: BENCH_S{1..4}_CONNS, BENCH_S{2..4}_RATES, BENCH_STEP override the mode's sizes.
#
# Targets: nchan, socketio, roomcast (standalone), cluster (deploy/local-cluster.sh: nginx,
#          2 comets, 2 logics, 2 jobs on the Kafka mock, MariaDB and Redis; meant for S4), and
#          floor / floor-merge (peers/floor/: a minimal C epoll server in the nchan dialect,
#          one write per delivery / one merged write per connection and wake-up).
# --short: 5,000 connections instead of 10,000/19,000, fewer rates, 3 s steps (a few minutes),
#          and a scenario stops at p99 > 1 s instead of 250 ms (short runs share the machine).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT="$HERE/out"
MODE=full
TARGETS="nchan socketio roomcast"
SCENARIOS="S1 S2 S3 S4"
ROOMCAST_BIN="${ROOMCAST_BIN:-$ROOT/build/roomcast}"
NCHAN_WORKERS=auto
REPORT=1
STOP_P99_MS=""
PERF=0
NICE=""   # e.g. --nice -5: run servers and client at a higher priority than background builds
while [ $# -gt 0 ]; do
  case "$1" in
    --short) MODE=short ;;
    --full) MODE=full ;;
    --targets) TARGETS="$2"; shift ;;
    --scenarios) SCENARIOS="$2"; shift ;;
    --roomcast-bin) ROOMCAST_BIN="$2"; shift ;;
    --nchan-workers) NCHAN_WORKERS="$2"; shift ;;
    --no-report) REPORT=0 ;;
    --stop-p99-ms) STOP_P99_MS="$2"; shift ;;
    --perf) PERF=1 ;;
    --nice) NICE="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$MODE" = short ]; then
  S1_CONNS=5000
  S2_CONNS=5000;  S2_RATES=2,5,10,20,50
  S3_CONNS=5000;  S3_RATES=100,1000,5000
  S4_CONNS=5000;  S4_RATES=100,1000,5000
  STEP=3; DRAIN=3; IDLE=2
  # short runs happen while other work shares the 2 cores: stop on loss, or on p99 past 1 s
  STOP_P99_MS=${STOP_P99_MS:-1000}
else
  S1_CONNS=19000
  S2_CONNS=10000; S2_RATES=1,2,5,10,20,50,100,200,500,1000
  S3_CONNS=10000; S3_RATES=100,200,500,1000,2000,5000,10000
  S4_CONNS=10000; S4_RATES=100,200,500,1000,2000,5000,10000
  STEP=10; DRAIN=5; IDLE=3
fi
# Targeted runs may override any of these from the environment, e.g. S2_RATES=10,100 S2_CONNS=10000.
S1_CONNS=${BENCH_S1_CONNS:-$S1_CONNS}
S2_CONNS=${BENCH_S2_CONNS:-$S2_CONNS}; S2_RATES=${BENCH_S2_RATES:-$S2_RATES}
S3_CONNS=${BENCH_S3_CONNS:-$S3_CONNS}; S3_RATES=${BENCH_S3_RATES:-$S3_RATES}
S4_CONNS=${BENCH_S4_CONNS:-$S4_CONNS}; S4_RATES=${BENCH_S4_RATES:-$S4_RATES}
STEP=${BENCH_STEP:-$STEP}
ROOM_SIZE=10
STOP_P99_MS=${STOP_P99_MS:-250}
BENCH_TIMEOUT=900   # seconds, per scenario run

NICECMD=""
[ -n "$NICE" ] && NICECMD="nice -n $NICE"
mkdir -p "$OUT"
LABEL="$(date -u +%Y%m%dT%H%M%SZ)-$MODE"
RESULTS="$OUT/results.jsonl"
LOG="$OUT/run-$LABEL.log"
echo "run $LABEL: targets [$TARGETS], scenarios [$SCENARIOS]; log $LOG"

# ---- build the client
cmake -S "$HERE" -B "$OUT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$OUT/build" >/dev/null
BENCH="$OUT/build/roomcast-bench"
FLOOR_BIN="$OUT/build/roomcast-bench-floor"

# ---- Socket.IO peer dependencies (from the lockfile)
if [[ " $TARGETS " == *" socketio "* ]] && [ ! -d "$HERE/peers/socketio/node_modules/socket.io" ]; then
  (cd "$HERE/peers/socketio" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- server management
SERVER_PID=""
SERVER_PIDS=""
PORT=""
TOKEN="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for p in $(seq 18100 18400); do
    port_open "$p" || { echo "$p"; return 0; }
  done
  return 1
}
wait_port() {  # port timeout_s
  local i
  for i in $(seq 1 $(( $2 * 20 ))); do
    port_open "$1" && return 0
    if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}
CLUSTER_RUNNING=""
# Each comet's, logic's and job's /metrics before the cluster goes down (the delivery stage
# histograms tell where a message waited): <cluster dir>/../metrics-<node>.txt.
save_cluster_metrics() {  # cluster_dir
  local token role id pid addr
  token=$(cat "$1/secrets/metrics_token" 2>/dev/null) || return 0
  CLUSTER_DIR="$1" bash "$ROOT/deploy/local-cluster.sh" status 2>/dev/null |
    while read -r role id pid addr; do
      case "$role" in comet|logic|job) ;; *) continue ;; esac
      curl -s -m 3 -H "Authorization: Bearer $token" "http://$addr/metrics" \
        > "$1/../metrics-$id.txt" 2>/dev/null || true
    done
}
stop_server() {
  if [ -n "$CLUSTER_RUNNING" ]; then
    save_cluster_metrics "$CLUSTER_RUNNING"
    CLUSTER_DIR="$CLUSTER_RUNNING" bash "$ROOT/deploy/local-cluster.sh" down >/dev/null 2>&1 || true
    CLUSTER_RUNNING=""; SERVER_PID=""; SERVER_PIDS=""
    return 0
  fi
  [ -n "$SERVER_PID" ] || return 0
  # Standalone roomcast's /metrics too (the stage histograms), next to its stdout.log.
  if [ "${SERVER_TARGET:-}" = roomcast ]; then
    curl -s -m 3 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" \
      > "$SERVER_DIR/metrics.txt" 2>/dev/null || true
  fi
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  SERVER_PIDS=""
}
trap stop_server EXIT INT TERM

start_server() {  # target scenario
  local target=$1 scen=$2
  PORT=$(free_port)
  local dir="$OUT/srv/$target-$scen"
  rm -rf "$dir"; mkdir -p "$dir"
  SERVER_TARGET="$target"; SERVER_DIR="$dir"
  case "$target" in
    nchan)
      mkdir -p "$dir/tmp"
      sed -e "s/@PORT@/$PORT/" -e "s/@WORKERS@/$NCHAN_WORKERS/" "$HERE/peers/nchan.conf" > "$dir/nginx.conf"
 $NICECMD nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" > "$dir/stdout.log" 2>&1 &
      SERVER_PID=$! ;;
    floor|floor-merge)
      # The floor peer (peers/floor/): what the machine allows, in the nchan dialect.
      local merge=0
      [ "$target" = floor-merge ] && merge=1
      $NICECMD "$FLOOR_BIN" --port "$PORT" --merge "$merge" > "$dir/stdout.log" 2>&1 &
      SERVER_PID=$! ;;
    socketio)
      (cd "$HERE/peers/socketio" && exec $NICECMD env PORT="$PORT" node server.js) > "$dir/stdout.log" 2>&1 &
      SERVER_PID=$! ;;
    cluster)
      # The whole distributed pipeline; CPU is summed over every comet, logic and job process.
      # LIMITS_PER_ADDRESS=0: every bench client comes from 127.0.0.1 (the hashing queue stays;
      # the bench honours Retry-After on 429/503). ROOM_CREATIONS_PER_MINUTE=0: the room setup
      # creates rooms in bursts from a few admin users.
      if ! CLUSTER_DIR="$dir/cluster" PORT="$PORT" PASSWORD_COST=min LIMITS_PER_ADDRESS=0 ROOMCAST_BIN="$ROOMCAST_BIN" \
          ROOM_CREATIONS_PER_MINUTE=0 \
          bash "$ROOT/deploy/local-cluster.sh" up > "$dir/stdout.log" 2>&1; then
        echo "  cluster did not start; see $dir/stdout.log" | tee -a "$LOG"
        CLUSTER_RUNNING="$dir/cluster"; stop_server
        return 1
      fi
      CLUSTER_RUNNING="$dir/cluster"
      SERVER_PIDS=$(CLUSTER_DIR="$dir/cluster" bash "$ROOT/deploy/local-cluster.sh" status |
        awk '$1=="comet"||$1=="logic"||$1=="job"{print $3}' | paste -sd, -)
      SERVER_PID=${SERVER_PIDS%%,*}
      return 0 ;;
    roomcast)
      # The room setup creates rooms in bursts: lift the per-user room creation rate.
      ROOMCAST_ADMIN_TOKEN="$TOKEN" ROOMCAST_METRICS_TOKEN="$TOKEN" ROOMCAST_PASSWORD_COST=min \
        ROOMCAST_LIMITS_PER_ADDRESS=0 ROOMCAST_LIMITS_ROOM_CREATIONS_PER_MINUTE=0 \
        $NICECMD "$ROOMCAST_BIN" standalone --listen "127.0.0.1:$PORT" --data-dir "$dir/data" > "$dir/stdout.log" 2>&1 &
      SERVER_PID=$! ;;
  esac
  if ! wait_port "$PORT" 20; then
    echo "  $target did not start; see $dir/stdout.log" | tee -a "$LOG"
    tail -5 "$dir/stdout.log" >&2 || true
    stop_server
    return 1
  fi
  sleep 0.3
  SERVER_PIDS="$SERVER_PID"
  local c
  for c in $(pgrep -P "$SERVER_PID" || true); do SERVER_PIDS="$SERVER_PIDS,$c"; done
}

run_scenario() {  # target scenario
  local target=$1 scen=$2 args=()
  case "$scen" in
    S1) args=(--conns "$S1_CONNS") ;;
    S2) args=(--conns "$S2_CONNS" --rates "$S2_RATES") ;;
    S3) args=(--conns "$S3_CONNS" --room-size "$ROOM_SIZE" --rates "$S3_RATES") ;;
    S4) [ "$target" = roomcast ] || [ "$target" = cluster ] || return 0
        args=(--conns "$S4_CONNS" --room-size "$ROOM_SIZE" --rates "$S4_RATES") ;;
  esac
  start_server "$target" "$scen" || return 0
  echo "== $target $scen (port $PORT, pids $SERVER_PIDS)" | tee -a "$LOG"
  local rc=0 before perf_pid=""
  before=$(wc -l < "$LOG")
  if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
    perf record -q -F 499 -g -p "$SERVER_PIDS" -o "$OUT/srv/$target-$scen/perf.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local client_target=$target name_args=()
  if [ "$target" = cluster ]; then client_target=roomcast; name_args=(--name cluster); fi
  case "$target" in floor|floor-merge) client_target=nchan; name_args=(--name "$target") ;; esac
 $NICECMD timeout --kill-after=10 "$BENCH_TIMEOUT" "$BENCH" --target "$client_target" "${name_args[@]}" --port "$PORT" --scenario "$scen" \
    --server-pid "$SERVER_PIDS" --admin-token "$TOKEN" --step-secs "$STEP" --drain-secs "$DRAIN" \
    --idle-secs "$IDLE" --stop-p99-ms "$STOP_P99_MS" --out "$RESULTS" --label "$LABEL" "${args[@]}" \
    >> "$LOG" 2>&1 || rc=$?
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$OUT/srv/$target-$scen/perf.data" --no-children --sort sym -g none --percent-limit 0.5 \
      > "$OUT/srv/$target-$scen/perf.txt" 2>/dev/null || true
  fi
  [ $rc -eq 0 ] || echo "  roomcast-bench exited with $rc (see $LOG)" | tee -a "$LOG"
  tail -n +"$((before + 1))" "$LOG" | grep -E "^[a-z]+ S[1-4]:" || true
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "  $target died during $scen; last output:" | tee -a "$LOG"
    tail -20 "$OUT/srv/$target-$scen/stdout.log" | tee -a "$LOG"
  fi
  stop_server
}

for target in $TARGETS; do
  if { [ "$target" = roomcast ] || [ "$target" = cluster ]; } && [ ! -x "$ROOMCAST_BIN" ]; then
    echo "skipping roomcast: $ROOMCAST_BIN not built" | tee -a "$LOG"
    continue
  fi
  for scen in $SCENARIOS; do
    run_scenario "$target" "$scen"
  done
done

if [ "$REPORT" = 1 ]; then
  node "$HERE/report.mjs" --results "$RESULTS" --label "$LABEL" --md "$HERE/RESULTS.md" --svg "$HERE/results.svg"
fi
echo "done: $RESULTS, $HERE/RESULTS.md, $HERE/results.svg"
