// Authentication between the roles: mutual TLS with a CA of the cluster's own. Both ends show a
// certificate signed by that CA, so neither a process that merely reaches a gRPC port nor one
// that registers itself in Redis as a fake Logic or Comet can call or be called (a shared
// bearer secret would hand itself to any fake peer a node was led to). Pure functions.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "common/config.h"

namespace roomcast {

// The name every node certificate carries (subjectAltName DNS), checked by the calling side
// instead of the peer's address: nodes find each other by IP through the registry.
inline constexpr const char* kInternalServerName = "roomcast.internal";

struct InternalTls {
  std::string ca_pem;    // the cluster CA
  std::string cert_pem;  // this node's certificate chain
  std::string key_pem;   // this node's private key
  bool enabled() const { return !ca_pem.empty(); }
};

// Reads ca.pem, node.pem and node.key from config.internal_tls_dir. Without that folder the
// answer is plaintext only when config.insecure_internal is set; otherwise it throws, so a
// node never starts unauthenticated by accident.
InternalTls load_internal_tls(const Config& config);

// Server side: a client certificate signed by the CA is required and verified.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const InternalTls& tls);
// Client side: the server must show a certificate for kInternalServerName signed by the CA.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const InternalTls& tls);

}  // namespace roomcast
