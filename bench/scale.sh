#!/usr/bin/env bash
# The 100k-connection run (issue #12, step 4): a fresh `COMETS=6 deploy/local-cluster.sh up`,
# 100,000 accounts through the entry point, 100,000 WebSockets straight to the six comets'
# ports (round robin), all of them members of one room; then one room broadcast that every
# connection must receive exactly once, and a handful more to time the delivery to all.
#
#   bash bench/scale.sh              (make bench-100k)
#   SCALE_CONNS=12000 bash bench/scale.sh --no-results   a small rehearsal
#
# Why straight to the comets: nginx holds two descriptors per proxied WebSocket, so 100,000
# connections would need 11+ nginx workers under the 20,000 open files per process (and every
# frame would cross one more process on 2 cores); a comet holds one per connection (16,667 each
# with six). Accounts and the push API still go through
# nginx (short requests). The client is spread over SCALE_WORKERS processes (each under
# ~19,000 sockets) and over source addresses 127.0.0.2... (5,000 clients each).
#
# Environment: SCALE_CONNS (100000), SCALE_COMETS (6), SCALE_LOGICS (2), SCALE_JOBS (2),
# SCALE_WORKERS (7), SCALE_TIMEOUT (900 s for the client), ROOMCAST_BIN (build/roomcast).
# Writes bench/out/scale.jsonl (the client's JSON lines), bench/out/scale-<label>.log, and the
# "100k connections" section of bench/RESULTS.md (not with --no-results). Everything it
# started is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT="$HERE/out"
CONNS=${SCALE_CONNS:-100000}
COMETS=${SCALE_COMETS:-6}
WORKERS=${SCALE_WORKERS:-7}
CLIENT_TIMEOUT=${SCALE_TIMEOUT:-900}
ROOMCAST_BIN="${ROOMCAST_BIN:-$ROOT/build/roomcast}"
RESULTS_MD=1
[ "${1:-}" = --no-results ] && RESULTS_MD=0
case "${1:-}" in -h | --help) sed -n '2,21p' "$0"; exit 0 ;; esac

[ -x "$ROOMCAST_BIN" ] || { echo "no $ROOMCAST_BIN: build it first (make build)" >&2; exit 1; }
mkdir -p "$OUT"
LABEL="$(date -u +%Y%m%dT%H%M%SZ)-scale"
LOG="$OUT/scale-$LABEL.log"
CLUSTER_DIR="$OUT/srv/scale/cluster"
cluster() { CLUSTER_DIR="$CLUSTER_DIR" bash "$ROOT/deploy/local-cluster.sh" "$@"; }

CLIENT_PID=""
cleanup() {
  if [ -n "$CLIENT_PID" ] && kill -0 "$CLIENT_PID" 2>/dev/null; then
    kill -TERM "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
  fi
  [ -d "$CLUSTER_DIR" ] && cluster down >>"$LOG" 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cmake -S "$HERE" -B "$OUT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$OUT/build" >/dev/null

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for p in $(seq 18500 18800); do port_open "$p" || { PORT=$p; break; }; done
[ -n "$PORT" ] || { echo "no free port" >&2; exit 1; }

# A fresh cluster: no accounts or rooms of an earlier run.
cluster down >/dev/null 2>&1 || true
rm -rf "$CLUSTER_DIR"
echo "scale run $LABEL: $CONNS connections, $COMETS comets; log $LOG" | tee "$LOG"
t0=$SECONDS
COMETS=$COMETS LOGICS=${SCALE_LOGICS:-2} JOBS=${SCALE_JOBS:-2} PORT=$PORT PASSWORD_COST=min \
  LIMITS_PER_ADDRESS=0 ROOM_CREATIONS_PER_MINUTE=0 ROOMCAST_BIN="$ROOMCAST_BIN" \
  cluster up >>"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
echo "cluster up in $((SECONDS - t0)) s (entry point 127.0.0.1:$PORT)" | tee -a "$LOG"

STATUS=$(cluster status)
echo "$STATUS" >>"$LOG"
pids_of() { echo "$STATUS" | awk -v r="$1" '$1==r && $3 ~ /^[0-9]+$/ {print $3}' | paste -sd, -; }
COMET_PORTS=$(echo "$STATUS" | awk '$1=="comet" {sub(/.*:/, "", $4); print $4}' | paste -sd, -)
SERVER_PIDS=$(pids_of comet),$(pids_of logic),$(pids_of job),$(pids_of redis),$(pids_of mysql)
TOKEN=$(cat "$CLUSTER_DIR/secrets/admin_token")

# One room of all connections (S2): the default room `beast`, which every account belongs to
# from its creation, so connections are ready at `hello` without a join. Step 1 publishes one
# message (0.2 msg/s for 5 s): every connection must get it exactly once. Step 2 publishes
# five, one per second, for the delivery time to all. Latency is no reason to stop here.
timeout --kill-after=10 "$CLIENT_TIMEOUT" "$OUT/build/roomcast-bench" --target roomcast \
  --name cluster-100k --port "$PORT" --ports "$COMET_PORTS" --room beast --scenario S2 \
  --conns "$CONNS" --workers "$WORKERS" --rates 0.2,1 --step-secs 5 --drain-secs 30 \
  --idle-secs 5 --stop-p99-ms 60000 --connect-timeout 600 --server-pid "$SERVER_PIDS" \
  --admin-token "$TOKEN" --out "$OUT/scale.jsonl" --label "$LABEL" >>"$LOG" 2>&1 &
CLIENT_PID=$!
rc=0
wait "$CLIENT_PID" || rc=$?
CLIENT_PID=""
grep -E "^(cluster-100k|created|serverError|client|worker)" "$LOG" | head -20 || true
[ $rc -eq 0 ] || echo "roomcast-bench exited with $rc (see $LOG)" | tee -a "$LOG"

args=(--results "$OUT/scale.jsonl" --label "$LABEL" --status-file /dev/stdin)
[ "$RESULTS_MD" = 1 ] && args+=(--md "$HERE/RESULTS.md")
echo "$STATUS" | node "$HERE/scale-report.mjs" "${args[@]}" | tee -a "$LOG"
exit $rc
