#include "net/client_address.h"

#include <stdexcept>

namespace roomcast {

namespace ip = boost::asio::ip;

namespace {

// A v4-mapped v6 address ("::ffff:1.2.3.4") is the v4 address.
ip::address normalized(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& specs) {
  for (auto& spec : specs) {
    boost::system::error_code ec;
    std::string cidr = spec.find('/') == std::string::npos
                           ? spec + (spec.find(':') == std::string::npos ? "/32" : "/128")
                           : spec;
    if (auto n4 = ip::make_network_v4(cidr, ec); !ec) {
      v4_.push_back(n4.canonical());
      continue;
    }
    ec.clear();
    if (auto n6 = ip::make_network_v6(cidr, ec); !ec) {
      v6_.push_back(n6.canonical());
      continue;
    }
    throw std::invalid_argument("trusted_proxies: '" + spec + "' is not an address or CIDR");
  }
}

bool TrustedProxies::trusted(const ip::address& peer) const {
  auto a = normalized(peer);
  if (a.is_v4()) {
    for (auto& n : v4_)
      if (ip::network_v4(a.to_v4(), n.prefix_length()).canonical() == n) return true;
  } else {
    for (auto& n : v6_)
      if (ip::network_v6(a.to_v6(), n.prefix_length()).canonical() == n) return true;
  }
  return false;
}

std::string TrustedProxies::client_of(const ip::address& peer,
                                      std::string_view forwarded_for) const {
  auto client = normalized(peer);
  if (!trusted(client)) return client.to_string();
  // Walk from the right: each hop appended the address it saw; stop at the first untrusted one.
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    auto item =
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    boost::system::error_code ec;
    auto hop = ip::make_address(std::string(item), ec);
    if (ec) break;  // garbage: keep the last address we could trust
    client = normalized(hop);
    if (!trusted(client)) break;
  }
  return client.to_string();
}

}  // namespace roomcast
