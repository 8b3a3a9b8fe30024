#include "rpc/internal_tls.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace roomcast {

namespace {
std::string read_pem(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("internal TLS: cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().find("-----BEGIN") == std::string::npos)
    throw std::runtime_error("internal TLS: " + path.string() + " is not PEM");
  return s.str();
}
}  // namespace

InternalTls load_internal_tls(const Config& config) {
  if (config.internal_tls_dir.empty()) {
    if (!config.insecure_internal)
      throw std::runtime_error(
          "no internal_tls_dir (ROOMCAST_INTERNAL_TLS_DIR with ca.pem, node.pem, node.key; "
          "deploy/gen-secrets.sh makes them); start with --insecure-internal 1 to run plaintext");
    spdlog::warn("internal gRPC is plaintext and unauthenticated (insecure_internal)");
    return {};
  }
  std::filesystem::path dir(config.internal_tls_dir);
  return {read_pem(dir / "ca.pem"), read_pem(dir / "node.pem"), read_pem(dir / "node.key")};
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const InternalTls& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const InternalTls& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca_pem;
  options.pem_private_key = tls.key_pem;
  options.pem_cert_chain = tls.cert_pem;
  return grpc::SslCredentials(options);
}

}  // namespace roomcast
