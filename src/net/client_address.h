// Who the client is: the TCP peer, or, when the peer is a configured trusted proxy, the address
// that proxy put in X-Forwarded-For. Per-address limits key on this.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

class TrustedProxies {
 public:
  // `specs`: addresses ("127.0.0.1", "::1") or CIDR blocks ("10.0.0.0/8"). Throws
  // std::invalid_argument for one that is neither.
  explicit TrustedProxies(const std::vector<std::string>& specs);

  bool trusted(const boost::asio::ip::address& peer) const;

  // The client's address as text: the peer's, or for a trusted peer the right-most address of
  // `forwarded_for` that is not itself a trusted proxy (the left part is client-controlled).
  // Thread-safe (immutable after construction).
  std::string client_of(const boost::asio::ip::address& peer, std::string_view forwarded_for) const;

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace roomcast
