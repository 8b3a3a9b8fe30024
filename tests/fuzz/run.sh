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

# The library sources the targets need are found, not listed (a list broke whenever a source
# was added or split): starting from the targets, every project header they include brings in
# the sources that implement it, then those sources' own includes, until nothing new turns up.
# A source implements the header of its folder it includes first (chat_delivery.cc:
# chat_session.h), and each header it includes whose name extends its own or is extended by it
# at a "_" (comet_drain.cc: comet.h); a header is also implemented by the source named like a
# "_"-prefix of its name (metrics_events.h: metrics.cc). Extra objects cost compile time only:
# the archive links what a target uses.
includes() { sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"; }
declare -A IMPLEMENTS=()
index_sources() {
  local s stem h first
  for s in $(find src -name '*.cc' | sort) "$OUT"/gen/*.pb.cc; do
    stem=${s#src/}; stem=${stem#"$OUT"/gen/}; stem=${stem%.cc}
    first=1
    for h in $(includes "$s"); do
      if [[ ($first = 1 && ${h%/*} == "${stem%/*}") || ${h%.h} == "$stem" ||
            ${h%.h} == "$stem"_* || $stem == "${h%.h}"_* ]]; then
        IMPLEMENTS[$h]+=" $s"
      fi
      first=0
    done
  done
}
sources_for() {  # the fuzz targets' files -> the library sources they need, one a line
  local -A seen=()
  local todo=("$@") f h p s
  while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]}; todo=("${todo[@]:1}")
    for h in $(includes "$f"); do
      [ -n "${seen[$h]:-}" ] && continue
      seen[$h]=1
      for p in "src/$h" "$OUT/gen/$h"; do [ -f "$p" ] && todo+=("$p"); done
      p=${h%.h}
      while [[ $p == *_* ]]; do p=${p%_*}; [ -f "src/$p.cc" ] && IMPLEMENTS[$h]+=" src/$p.cc"; done
      for s in ${IMPLEMENTS[$h]:-}; do
        [ -n "${seen[$s]:-}" ] && continue
        seen[$s]=1; todo+=("$s"); echo "$s"
      done
    done
  done
}

mkdir -p "$OUT/gen" "$OUT/obj"
protoc -Iproto --cpp_out="$OUT/gen" proto/*.proto
index_sources
CORE=($(sources_for $(printf 'tests/fuzz/%s.cc ' "${TARGETS[@]}") | sort -u))
compile() {  # src -> obj path on stdout
  local obj="$OUT/obj/$(echo "$1" | tr '/' '_' ).o"
  $CXX $FLAGS -c "$1" -o "$obj"
  echo "$obj"
}
export -f compile; export CXX FLAGS OUT
printf '%s\n' "${CORE[@]}" | xargs -P "$(nproc)" -I{} bash -c 'compile {} >/dev/null'
rm -f "$OUT/libfuzzcore.a"
ar rcs "$OUT/libfuzzcore.a" $(for s in "${CORE[@]}"; do echo "$OUT/obj/$(echo "$s" | tr '/' '_').o"; done)

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
