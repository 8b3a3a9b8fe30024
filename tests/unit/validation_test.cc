#include <gtest/gtest.h>

#include "common/validation.h"

using namespace roomcast;

TEST(Validation, CountsCodePoints) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xc3\xa9t\xc3\xa9"), 3u);  // "été"
  EXPECT_FALSE(utf8_length("\xc3"));                 // truncated
  EXPECT_FALSE(utf8_length("\xc0\xaf"));             // overlong
}
