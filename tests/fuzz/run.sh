#!/usr/bin/env bash
# Builds roomcast's libFuzzer targets with clang-14 (ASan + UBSan) and runs each for SECONDS
# (default 60) on a copy of its seed corpus from tests/fuzz/corpus/<target>. `make test` runs
# this with a short time (ctest test "fuzz"); `make fuzz` runs it longer. A crash, a leak or a
# broken invariant fails the run and leaves the input as build-fuzz/crash-*.
# Usage: tests/fuzz/run.sh [SECONDS] [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-60}
shift || true
OUT=${FUZZ_OUT:-build-fuzz}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(client_event_fuzzer ws_chunk_fuzzer queue_record_fuzzer
                                     cache_value_fuzzer rest_fuzzer)
CXX="clang++-14"
command -v ccache >/dev/null && CXX="ccache clang++-14"
DEFS="-DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL -DSPDLOG_SHARED_LIB -DFMT_SHARED
      -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -DBOOST_JSON_NO_LIB -DBOOST_SYSTEM_NO_LIB"
FLAGS="-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -Isrc -I$OUT/gen $DEFS"
LIBS="-lboost_json -lboost_system -lsodium -lcrypto -licuuc -lprotobuf -lsqlite3 -lspdlog -lfmt
      -ltomlplusplus -lsimdjson -lprometheus-cpp-core -lpthread"

# The contracts the targets use, with every file they import (one .pb.cc each).
proto_closure() {
  local todo=("$@") seen=() p
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    [[ " ${seen[*]} " == *" $p "* ]] && continue
    seen+=("$p")
    todo+=($(sed -n 's/^import "\(.*\)\.proto";.*/\1/p' "proto/$p.proto"))
  done
  echo "${seen[@]}"
}
PROTOS=($(proto_closure queue))
# The library sources the targets need; each target's main pulls what it uses from the archive.
CORE=(src/comet/client_events.cc src/common/ids.cc src/common/validation.cc src/common/cookie.cc
      src/comet/ws_codec.cc src/queue/record_codec.cc src/store/cache_codec.cc
      src/logic/rest_api.cc src/logic/logic.cc src/store/sqlite_store.cc src/store/password.cc
      src/queue/local_queue.cc src/common/config.cc src/common/json_write.cc
      src/common/events.cc src/common/log.cc src/logic/rest_limits.cc
      src/logic/window_counters.cc src/common/metrics.cc src/common/sharded_metrics.cc
      src/common/keyed_limiter.cc src/common/trace_id.cc src/common/log_ids.cc
      src/common/json_log.cc src/logic/logic_api.cc src/domain/message_wire.cc)
for p in "${PROTOS[@]}"; do CORE+=("$OUT/gen/$p.pb.cc"); done

mkdir -p "$OUT/gen" "$OUT/obj"
protoc -Iproto --cpp_out="$OUT/gen" $(printf 'proto/%s.proto ' "${PROTOS[@]}")
compile() {  # src -> obj path on stdout
  local obj="$OUT/obj/$(echo "$1" | tr '/' '_' ).o"
  $CXX $FLAGS -c "$1" -o "$obj"
  echo "$obj"
}
export -f compile; export CXX FLAGS OUT
printf '%s\n' "${CORE[@]}" | xargs -P "$(nproc)" -I{} bash -c 'compile {} >/dev/null'
rm -f "$OUT/libfuzzcore.a"
ar rcs "$OUT/libfuzzcore.a" "$OUT"/obj/*.o

status=0
for t in "${TARGETS[@]}"; do
  $CXX $FLAGS -fsanitize=fuzzer "tests/fuzz/$t.cc" "$OUT/libfuzzcore.a" $LIBS -o "$OUT/$t"
  mkdir -p "$OUT/corpus/$t"
  cp -n tests/fuzz/corpus/"$t"/* "$OUT/corpus/$t/" 2>/dev/null || true
  echo "== $t: ${SECONDS_EACH}s"
  if ! (cd "$OUT" && ASAN_OPTIONS=detect_leaks=1 "./$t" -max_total_time="$SECONDS_EACH" \
        -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "corpus/$t" \
        2>"$t.log"); then
    echo "FAILED: $t (see $OUT/$t.log)"; tail -n 40 "$OUT/$t.log"; status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$OUT/$t.log" | tail -n 2
  fi
done
exit $status
