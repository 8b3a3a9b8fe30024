// libFuzzer target: queue records come off Kafka, so their decoder sees whatever a broker
// holds. Decoding never crashes; a record that decodes encodes and decodes to the same record.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "queue/record_codec.h"

namespace {
bool same(const roomcast::QueueRecord& a, const roomcast::QueueRecord& b) {
  return a.type == b.type && a.room_id == b.room_id && a.user_ids == b.user_ids && a.op == b.op &&
         a.joined_room == b.joined_room && a.body == b.body &&
         a.message.room_id == b.message.room_id && a.message.user_id == b.message.user_id &&
         a.message.username == b.message.username && a.message.content == b.message.content &&
         a.message.client_id == b.message.client_id && a.message.dedup_key == b.message.dedup_key &&
         a.message.timestamp_ms == b.message.timestamp_ms && a.origin_conn == b.origin_conn &&
         a.event_id == b.event_id && a.trace_id == b.trace_id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  roomcast::QueueRecord record;
  try {
    record = roomcast::decode_record(input);
  } catch (const roomcast::RecordCodecError&) {
    return 0;
  }
  auto again = roomcast::decode_record(roomcast::encode_record(record));
  if (!same(record, again)) __builtin_trap();
  return 0;
}
