// The Resolver's rules without Redis: how an entry reads, and which nodes stay listed when the
// registry is lost (tests/infra/registry_test.cc covers the same against a real Redis).
#include "discovery/known_nodes.h"

#include <gtest/gtest.h>

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using Clock = KnownNodes::Clock;

NodeInfo node(const std::string& id) {
  return {"comet", id, id + ":7000", id + ":8080", 0};
}

std::vector<std::string> ids(const KnownNodes& known) {
  std::vector<std::string> out;
  for (auto& n : known.nodes()) out.push_back(n.id);
  return out;
}

TEST(NodeEntry, ReadsAddressesAndLoad) {
  auto n = parse_node_entry("comet", "c1", "10.0.0.1:7000\t10.0.0.1:8080\t42");
  EXPECT_EQ(n.role, "comet");
  EXPECT_EQ(n.id, "c1");
  EXPECT_EQ(n.address, "10.0.0.1:7000");
  EXPECT_EQ(n.public_address, "10.0.0.1:8080");
  EXPECT_EQ(n.load, 42);
}

TEST(NodeEntry, MissingFieldsAreEmptyAndABadLoadIsZero) {
  auto job = parse_node_entry("job", "j1", "\t\t0");
  EXPECT_EQ(job.address, "");
  EXPECT_EQ(job.public_address, "");
  auto short_entry = parse_node_entry("logic", "l1", "10.0.0.2:7001");
  EXPECT_EQ(short_entry.address, "10.0.0.2:7001");
  EXPECT_EQ(short_entry.public_address, "");
  EXPECT_EQ(short_entry.load, 0);
  EXPECT_EQ(parse_node_entry("comet", "c", "a\tb\t12x").load, 0);
  EXPECT_EQ(parse_node_entry("comet", "c", "a\tb\t").load, 0);
}

TEST(KnownNodes, ListsWhatTheRefreshReadSortedById) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  EXPECT_FALSE(known.update({node("c2"), node("c1")}, "e1", t0));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1", "c2"}));
}

TEST(KnownNodes, ANodeThatLeavesUnderTheSameEpochDropsOutAtOnce) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  known.update({node("c1"), node("c2")}, "e1", t0);
  EXPECT_FALSE(known.update({node("c1")}, "e1", t0 + 1s));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1"}));
}

TEST(KnownNodes, TheFirstNodeStartingIsNoLoss) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  EXPECT_FALSE(known.update({}, "", t0));
  EXPECT_FALSE(known.update({node("c1")}, "e1", t0 + 1s));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1"}));
}

TEST(KnownNodes, AfterAFlushKnownNodesStayDuringTheGraceUntilTheyAreBack) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  known.update({node("c1"), node("c2"), node("c3")}, "e1", t0);
  // FLUSHALL, then c2 re-registers first (with a new epoch token).
  EXPECT_TRUE(known.update({node("c2")}, "e2", t0 + 1s));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1", "c2", "c3"}));
  // c1 is back with a new load: the fresh entry wins over the known one.
  auto c1 = node("c1");
  c1.load = 7;
  EXPECT_FALSE(known.update({c1, node("c2")}, "e2", t0 + 2s));
  ASSERT_EQ(ids(known), (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(known.nodes()[0].load, 7);
  // c3 never comes back: it drops out when the grace ends.
  known.update({c1, node("c2")}, "e2", t0 + 6s + 1ms);
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1", "c2"}));
}

// SMEMBERS read before a FLUSHALL, MGET after it: every entry reads as missing, and the epoch
// (read last) is gone. The nodes must not vanish: the loss starts the grace.
TEST(KnownNodes, AFlushInTheMiddleOfOneRefreshKeepsTheKnownNodes) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  known.update({node("c1"), node("c2")}, "e1", t0);
  EXPECT_TRUE(known.update({}, "", t0 + 1s));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1", "c2"}));
  // The next refresh sees the token of the first node re-registering: from none to a token is
  // no second loss, and the grace still counts from the first.
  EXPECT_FALSE(known.update({node("c1")}, "e2", t0 + 2s));
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1", "c2"}));
  known.update({node("c1")}, "e2", t0 + 6s + 1ms);
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1"}));
}

TEST(KnownNodes, ASecondLossRestartsTheGrace) {
  KnownNodes known(5s);
  auto t0 = Clock::now();
  known.update({node("c1")}, "e1", t0);
  EXPECT_TRUE(known.update({}, "e2", t0 + 1s));
  EXPECT_TRUE(known.update({}, "e3", t0 + 5s));
  known.update({}, "e3", t0 + 9s);
  EXPECT_EQ(ids(known), (std::vector<std::string>{"c1"}));
  known.update({}, "e3", t0 + 10s + 1ms);
  EXPECT_TRUE(known.nodes().empty());
}

TEST(KnownNodes, NoGraceMeansTheListIsExactlyWhatWasRead) {
  KnownNodes known(0ms);
  auto t0 = Clock::now();
  known.update({node("c1")}, "e1", t0);
  EXPECT_TRUE(known.update({}, "e2", t0 + 1s));
  EXPECT_TRUE(known.nodes().empty());
}

}  // namespace
}  // namespace roomcast
