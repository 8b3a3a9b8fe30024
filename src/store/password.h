// Password hashing with argon2id (libsodium). The cost is stored inside each hash string, so a
// lower cost for tests and load runs never weakens hashes made with the production cost.
#pragma once

#include <string>

namespace roomcast {

enum class PasswordCost { kMin, kInteractive, kModerate };
PasswordCost parse_password_cost(const std::string& name);

std::string hash_password(const std::string& password, PasswordCost cost);
bool verify_password(const std::string& hash, const std::string& password);

}  // namespace roomcast
