#include "store/password.h"

#include <sodium.h>

#include <stdexcept>

namespace roomcast {

PasswordCost parse_password_cost(const std::string& name) {
  if (name == "min") return PasswordCost::kMin;
  if (name == "interactive") return PasswordCost::kInteractive;
  if (name == "moderate") return PasswordCost::kModerate;
  throw std::invalid_argument("password_cost must be min, interactive or moderate");
}

std::string hash_password(const std::string& password, PasswordCost cost) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
  unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (cost == PasswordCost::kMin) {
    ops = crypto_pwhash_OPSLIMIT_MIN;
    mem = 64 * 1024;  // 64 KiB: fast, only for tests and load generation
  } else if (cost == PasswordCost::kModerate) {
    ops = crypto_pwhash_OPSLIMIT_MODERATE;
    mem = crypto_pwhash_MEMLIMIT_MODERATE;
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace roomcast
