// The building blocks of the REST abuse limits: bounded per-key tables, token buckets, failure
// windows, trusted-proxy client addresses, the JSON media type rule and static-file routes.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <filesystem>
#include <fstream>

#include "common/keyed_limiter.h"
#include "common/lru_map.h"
#include "net/api_guard.h"
#include "net/client_address.h"
#include "net/static_files.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;

TEST(LruMap, StaysWithinItsBoundDroppingTheLeastRecentlyUsed) {
  LruMap<int> m(3);
  m.get_or_insert("a", 1);
  m.get_or_insert("b", 2);
  m.get_or_insert("c", 3);
  ASSERT_NE(m.find("a"), nullptr);  // touch: b is now the oldest
  for (int i = 0; i < 1000; ++i) m.get_or_insert("k" + std::to_string(i), i);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.find("b"), nullptr);
  ASSERT_NE(m.find("k999"), nullptr);
}

TEST(KeyedTokenBuckets, BurstThenRefillPerKey) {
  KeyedTokenBuckets buckets(60, 2, 100);  // one per second, bursts of 2
  auto t = LimiterClock::now();
  EXPECT_FALSE(buckets.take("x", t));
  EXPECT_FALSE(buckets.take("x", t));
  auto wait = buckets.take("x", t);
  ASSERT_TRUE(wait);
  EXPECT_GT(wait->count(), 900);
  EXPECT_LE(wait->count(), 1000);
  EXPECT_FALSE(buckets.take("y", t)) << "another key has its own bucket";
  EXPECT_FALSE(buckets.take("x", t + 1s)) << "a token came back";
}

TEST(FailureWindows, LocksAfterTheLimitUntilTheWindowCloses) {
  FailureWindows windows(3, 60s, 100);
  auto t = LimiterClock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(windows.blocked("a", t));
    windows.record_failure("a", t + std::chrono::seconds(i));
  }
  auto wait = windows.blocked("a", t + 10s);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->count(), 50000) << "until the minute since the first failure passes";
  EXPECT_FALSE(windows.blocked("b", t + 10s));
  EXPECT_FALSE(windows.blocked("a", t + 60s));
}

TEST(TrustedProxies, ForwardedForOnlyFromTrustedPeers) {
  TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8", "::1"});
  auto addr = [](const char* s) { return boost::asio::ip::make_address(s); };
  EXPECT_EQ(proxies.client_of(addr("192.0.2.1"), "198.51.100.7"), "192.0.2.1");
  EXPECT_EQ(proxies.client_of(addr("127.0.0.1"), "198.51.100.7"), "198.51.100.7");
  // The right-most untrusted hop wins; what the client wrote on the left is ignored.
  EXPECT_EQ(proxies.client_of(addr("127.0.0.1"), "1.2.3.4, 198.51.100.7, 10.1.2.3"),
            "198.51.100.7");
  EXPECT_EQ(proxies.client_of(addr("::ffff:10.9.9.9"), "198.51.100.8"), "198.51.100.8");
  EXPECT_EQ(proxies.client_of(addr("127.0.0.1"), ""), "127.0.0.1");
  EXPECT_EQ(proxies.client_of(addr("127.0.0.1"), "garbage"), "127.0.0.1");
  EXPECT_THROW(TrustedProxies({"not-an-address"}), std::invalid_argument);
}

TEST(ApiGuard, JsonMediaTypeWithParameters) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type(""));
}

TEST(StaticFiles, ExtensionlessPathsServeTheirHtmlElseTheShell) {
  auto root = std::filesystem::temp_directory_path() / "roomcast-static-test";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "js");
  std::ofstream(root / "index.html") << "shell";
  std::ofstream(root / "chat.html") << "chat";
  std::ofstream(root / "js" / "app.js") << "js";
  StaticFiles files(root.string());
  auto body = [&](const char* path) {
    auto* f = files.find(path);
    return f ? f->content : std::string("404");
  };
  EXPECT_EQ(body("/"), "shell");
  EXPECT_EQ(body("/chat"), "chat");
  EXPECT_EQ(body("/somewhere/else"), "shell");
  EXPECT_EQ(body("/js/app.js"), "js");
  EXPECT_EQ(body("/js/%61pp.js"), "js");
  EXPECT_EQ(body("/js/missing.js"), "404");
  EXPECT_EQ(body("/../etc/passwd"), "shell");
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace roomcast
