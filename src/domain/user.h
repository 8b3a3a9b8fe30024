// A user as every layer names it, and the stored form with its password hash.
#pragma once

#include <cstdint>
#include <string>

namespace roomcast {

struct User {
  int64_t id = 0;
  std::string username;
};

struct UserCredentials {
  User user;
  std::string password_hash;
};

}  // namespace roomcast
