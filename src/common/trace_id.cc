#include "common/trace_id.h"

#include <algorithm>
#include <random>
#include <thread>

namespace roomcast {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// splitmix64: one multiply-xorshift round per id, statistically good for 64-bit ids.
uint64_t next_random() {
  thread_local uint64_t state = [] {
    std::random_device device;
    uint64_t seed = (uint64_t{device()} << 32) ^ device();
    return seed ^ std::hash<std::thread::id>{}(std::this_thread::get_id());
  }();
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

TraceId TraceId::random() {
  TraceId id;
  while (id.value == 0) id.value = next_random();
  return id;
}

std::optional<TraceId> TraceId::parse(std::string_view hex) {
  if (hex.size() != kHexLength) return std::nullopt;
  uint64_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  if (value == 0) return std::nullopt;
  return TraceId{value};
}

std::array<char, TraceId::kHexLength> TraceId::hex() const {
  std::array<char, kHexLength> out{};
  for (std::size_t i = 0; i < kHexLength; ++i)
    out[i] = kDigits[(value >> (4 * (kHexLength - 1 - i))) & 0xF];
  return out;
}

std::string TraceId::to_string() const {
  auto h = hex();
  return std::string(h.data(), h.size());
}

void TraceId::append_to(std::string& out) const {
  auto h = hex();
  out.append(h.data(), h.size());
}

std::string trace_list(const std::vector<TraceId>& traces, std::size_t shown) {
  std::vector<TraceId> distinct;
  for (auto t : traces)
    if (t && std::find(distinct.begin(), distinct.end(), t) == distinct.end())
      distinct.push_back(t);
  if (distinct.empty()) return "";
  std::string out = "traces";
  for (std::size_t i = 0; i < distinct.size() && i < shown; ++i) {
    out += ' ';
    distinct[i].append_to(out);
  }
  if (distinct.size() > shown) out += " (+" + std::to_string(distinct.size() - shown) + " more)";
  return out;
}

}  // namespace roomcast
