#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it for SECONDS (default 60) on a corpus seeded
# with valid events. Not part of `make test` (it is open-ended); `make fuzz` runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
printf '%s' '{"type":"clientMessages","payload":{"roomId":"r","messages":[{"content":"hi","clientId":"c"}]}}' > "$OUT/corpus/messages"
printf '%s' '{"type":"clientResume","payload":{"rooms":[{"roomId":"a","lastMessageId":"1-0"}]}}' > "$OUT/corpus/resume"
printf '%s' '{"type":"requestRoomHistory","payload":{"roomId":"r","firstMessageId":"9-0","count":3}}' > "$OUT/corpus/history"
FLAGS="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc"
objs=()
for src in tests/fuzz/client_event_fuzzer.cc src/comet/client_events.cc src/common/ids.cc \
           src/common/validation.cc src/common/cookie.cc src/comet/ws_codec.cc; do
  obj="$OUT/$(basename "$src" .cc).o"
  clang++-14 $FLAGS -c "$src" -o "$obj"
  objs+=("$obj")
done
clang++-14 $FLAGS "${objs[@]}" -lboost_json -lsodium -lcrypto -o "$OUT/client_event_fuzzer"
"$OUT/client_event_fuzzer" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 "$OUT/corpus"
