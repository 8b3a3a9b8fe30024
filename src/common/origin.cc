#include "common/origin.h"

#include <cctype>

namespace roomcast {
namespace {

// "host[:port]" lower-cased, with `default_port` added when there is none ("[::1]" is a host).
std::string with_port(std::string_view authority, std::string_view default_port) {
  std::string out(authority);
  auto colon = out.rfind(':');
  auto bracket = out.rfind(']');
  bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) out += ":" + std::string(default_port);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "scheme://host[:port]" -> "host:port" with the scheme's default port filled in.
std::string origin_authority(std::string_view origin) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return {};
  auto scheme = origin.substr(0, sep);
  auto rest = origin.substr(sep + 3);
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  return with_port(rest, (scheme == "https" || scheme == "wss") ? "443" : "80");
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;  // not a browser
  for (auto& a : allowed)
    if (a == "*" || a == origin) return true;
  auto o = origin_authority(origin);
  if (o.empty()) return false;  // "null" and other opaque origins
  auto default_port = o.substr(o.rfind(':') + 1);
  return o == with_port(host, default_port);
}

}  // namespace roomcast
