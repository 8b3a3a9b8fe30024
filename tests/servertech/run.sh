#!/usr/bin/env bash
# Runs servertech-chat's own integration suite (its test/integration, unchanged) against
# `roomcast standalone`. Its conftest talks to http://localhost:8080, so port 8080 must be free.
#
#   tests/servertech/run.sh /path/to/servertech-chat [pytest args...]
#
# Needs Debian's python3-pytest python3-requests python3-pydantic python3-websockets
# python3-websocket (compat/ bridges their older pydantic and websockets to the suite's API).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="${1:?usage: run.sh SERVERTECH_CHAT_DIR [pytest args]}"
shift
bin="${ROOMCAST_BIN:-$repo/build/roomcast}"
data="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
# Its suite makes its accounts from one address: the test profile lifts the per-address limits.
ROOMCAST_PASSWORD_COST=min ROOMCAST_LIMITS_PER_ADDRESS=0 \
  "$bin" standalone --listen 127.0.0.1:8080 --data-dir "$data" >"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.1
done
cd "$src"
PYTHONPATH="$here/compat" /usr/bin/python3 -m pytest -p no:cacheprovider -q test/integration "$@"
