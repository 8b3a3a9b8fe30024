#!/usr/bin/env bash
# Runs the infra tests against fresh servers: tests/infra/run.sh INFRA_TESTS [KAFKA_MOCK] [gtest args]
set -euo pipefail
tests=$1; shift
if [[ $# -gt 0 && "$1" != -* ]]; then export ROOMCAST_KAFKA_MOCK=$1; shift; fi
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/roomcast-infra.XXXXXX)
cleanup() { "$here/scripts/test-servers.sh" stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
"$here/scripts/test-servers.sh" start "$dir" >/dev/null
set -a; source "$dir/env"; set +a
"$tests" "$@"
