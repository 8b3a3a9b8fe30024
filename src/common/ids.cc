#include "common/ids.h"

#include <sodium.h>

#include <charconv>
#include <chrono>

namespace roomcast {

std::string message_id(uint64_t seq) {
  std::string s;
  append_message_id(s, seq);
  return s;
}

void append_message_id(std::string& out, uint64_t seq) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, seq);
  out.append(buf, r.ptr);
  out += "-0";
}

std::optional<uint64_t> parse_message_id(std::string_view id) {
  auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return std::nullopt;
  auto digits = [](std::string_view s) {
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return s.size() <= 19;
  };
  auto seq_part = id.substr(0, dash), n_part = id.substr(dash + 1);
  if (!digits(seq_part) || !digits(n_part)) return std::nullopt;
  uint64_t seq = 0;
  std::from_chars(seq_part.data(), seq_part.data() + seq_part.size(), seq);
  return seq;
}

std::optional<uint64_t> seq_not_before(std::string_view id) {
  auto seq = parse_message_id(id);
  if (!seq) return std::nullopt;
  auto n_part = id.substr(id.find('-') + 1);
  bool n_positive = n_part.find_first_not_of('0') != std::string_view::npos;
  return n_positive ? *seq + 1 : *seq;  // seq has at most 19 digits: no overflow
}

std::string random_hex(std::size_t bytes) {
  static const int init = sodium_init();
  (void)init;
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();
  return hex;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace roomcast
