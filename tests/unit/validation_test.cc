#include <gtest/gtest.h>

#include "common/validation.h"

using namespace roomcast;

TEST(Validation, CountsCodePoints) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9t\xc3\xa9"), 3u);  // "été"
  EXPECT_FALSE(utf8_length("\xc3"));                // truncated
  EXPECT_FALSE(utf8_length("\xc0\xaf"));            // overlong
}

TEST(Validation, AccountRules) {
  EXPECT_TRUE(valid_username("abcd"));
  EXPECT_TRUE(valid_username("éééé"));  // 4 code points, 8 bytes
  EXPECT_FALSE(valid_username("abc"));
  EXPECT_FALSE(valid_username(std::string(101, 'a')));
  EXPECT_FALSE(valid_username("ab\ncd"));
  EXPECT_FALSE(
      valid_username("ab\xc2\x85"
                     "cd"));  // C1 control
  EXPECT_TRUE(valid_email("a@b.co"));
  EXPECT_FALSE(valid_email("a@b"));
  EXPECT_FALSE(valid_email("@b.co"));
  EXPECT_FALSE(valid_email("a@@b.co"));
  EXPECT_FALSE(valid_email("a@.co"));
  EXPECT_FALSE(valid_email("a@b."));
  EXPECT_FALSE(valid_email(std::string(95, 'a') + "@b.com"));
  EXPECT_TRUE(valid_password("0123456789"));
  EXPECT_FALSE(valid_password("012345678"));
  EXPECT_FALSE(valid_password(std::string(101, 'p')));
  EXPECT_EQ(fold_case("MiXeD@Example.COM"), "mixed@example.com");
}

TEST(Validation, NamesDifferingOnlyInUnicodeCaseOrFormFoldAlike) {
  EXPECT_EQ(fold_case("ÄRGER"), fold_case("ärger"));
  EXPECT_EQ(fold_case("Straße"), fold_case("STRASSE"));
  EXPECT_EQ(fold_case("ΣΊΣΥΦΟΣ"), fold_case("σίσυφος"));
  EXPECT_EQ(fold_case("Ｆｕｌｌｗｉｄｔｈ"), "fullwidth");
  EXPECT_EQ(fold_case("e\xCC\x81"
                      "cole"),
            fold_case("\xC3\x89"
                      "cole"));  // e + U+0301 vs É
  EXPECT_EQ(fold_case("Юлия"), "юлия");
  EXPECT_NE(fold_case("юлия"), fold_case("юлиа"));
  EXPECT_NE(fold_case("ärger"), fold_case("arger"));  // accents are not stripped
}

#include "common/flat_map.h"

TEST(FlatMap, BehavesLikeAMap) {
  FlatMap<std::string, int> m;
  m["a"] = 1;
  m["b"] = 2;
  m["a"] += 10;
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.find("a")->second, 11);
  EXPECT_EQ(m.count("c"), 0u);
  EXPECT_EQ(m.erase("a"), 1u);
  EXPECT_EQ(m.erase("a"), 0u);
  EXPECT_EQ(m.find("a"), m.end());
  EXPECT_EQ(m.begin()->first, "b");
}

TEST(FlatMap, ASmallMapHoldsNoSpareEntriesAndABigOneStillGrowsGeometrically) {
  FlatMap<int, int> m;
  for (int i = 0; i < 5; ++i) m[i] = i;
  EXPECT_EQ(m.capacity(), 5u);  // doubling would hold 8: a user of five rooms, per connection
  std::size_t grows = 0, last = m.capacity();
  for (int i = 5; i < 1000; ++i) {
    m[i] = i;
    if (m.capacity() != last) ++grows, last = m.capacity();
  }
  EXPECT_LT(grows, 40u);
  EXPECT_EQ(m.size(), 1000u);
  EXPECT_EQ(m.find(999)->second, 999);
}
