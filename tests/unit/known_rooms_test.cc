#include <gtest/gtest.h>

#include "logic/known_rooms.h"

namespace roomcast {
namespace {

TEST(KnownRooms, RemembersIdsAndStaysBounded) {
  KnownRooms known(3);
  EXPECT_FALSE(known.contains("a"));
  known.add("a");
  known.add("b");
  known.add("c");
  EXPECT_TRUE(known.contains("a"));
  EXPECT_TRUE(known.contains("c"));
  known.add("d");  // full: starts over, a miss only costs a store lookup
  EXPECT_TRUE(known.contains("d"));
  EXPECT_FALSE(known.contains("a"));
}

}  // namespace
}  // namespace roomcast
