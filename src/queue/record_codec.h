// QueueRecord <-> protobuf bytes (proto/queue.proto, roomcast.queue.Record): the payload of the
// Kafka records between Logic and Job.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "queue/queue.h"

namespace roomcast {

struct RecordCodecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string encode_record(const QueueRecord& record);
void encode_record(const QueueRecord& record, std::string& out);  // reuses out's buffer
// Throws RecordCodecError when the bytes are not a Record.
QueueRecord decode_record(std::string_view bytes);

}  // namespace roomcast
