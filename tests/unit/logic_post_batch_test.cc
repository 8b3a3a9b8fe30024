// Logic::post_batch (Logic.ReceiveBatch): each event checked as post_messages checks it, the
// records of every accepted event produced in one call, one outcome per event in order.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/ids.h"
#include "logic/logic.h"
#include "store/sqlite_store.h"

using namespace roomcast;
namespace fs = std::filesystem;

namespace {

// Records each produce_groups call; fails the groups listed in `refuse`.
class RecordingProducer : public QueueProducer {
 public:
  void produce(std::vector<QueueRecord> records) override { singles.push_back(records); }
  std::vector<std::exception_ptr> produce_groups(
      std::vector<std::vector<QueueRecord>> groups) override {
    calls.push_back(groups);
    std::vector<std::exception_ptr> out(groups.size());
    for (auto g : refuse)
      if (g < out.size()) out[g] = std::make_exception_ptr(QueueFullError("full"));
    return out;
  }
  std::vector<std::vector<QueueRecord>> singles;
  std::vector<std::vector<std::vector<QueueRecord>>> calls;
  std::vector<std::size_t> refuse;
};

std::string code_of(const std::exception_ptr& e) {
  if (!e) return "ok";
  try {
    std::rethrow_exception(e);
  } catch (const ClientError& c) {
    return c.code;
  } catch (const std::exception& other) {
    return std::string("other: ") + other.what();
  }
}

class LogicPostBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("roomcast-batch-" + random_hex(6));
    fs::create_directories(dir);
    store = std::make_unique<SqliteStore>((dir / "db.sqlite").string());
    logic = std::make_unique<Logic>(config, *store, *store, producer);
    logic->init_default_rooms();
    ASSERT_TRUE(store->create_room({"rother", "someone else's"}, 99));
  }
  void TearDown() override {
    logic.reset();
    store.reset();
    fs::remove_all(dir);
  }
  PostEvent post(int64_t user, const std::string& room, const std::string& content) {
    return {{user, "u" + std::to_string(user)}, room, {{content, ""}}, TraceId::random()};
  }

  Config config;
  fs::path dir;
  std::unique_ptr<SqliteStore> store;
  RecordingProducer producer;
  std::unique_ptr<Logic> logic;
};

TEST_F(LogicPostBatch, RefusedEventsGetTheirErrorAndTheOthersAreProducedInOneCall) {
  std::string too_long(config.limits.max_content_bytes + 1, 'x');
  auto outcomes = logic->post_batch({post(1, "beast", "first"), post(2, "beast", too_long),
                                     post(3, "rother", "not a member"), post(4, "nope", "where"),
                                     post(1, "async", "last")});
  std::vector<std::string> codes;
  for (auto& o : outcomes) codes.push_back(code_of(o));
  EXPECT_EQ(codes,
            (std::vector<std::string>{"ok", "TOO_LONG", "NOT_MEMBER", "UNKNOWN_ROOM", "ok"}));
  ASSERT_EQ(producer.calls.size(), 1u);  // one hand-over (one wait) for the whole batch
  ASSERT_EQ(producer.calls[0].size(), 2u);
  EXPECT_EQ(producer.calls[0][0].at(0).message.content, "first");
  EXPECT_EQ(producer.calls[0][1].at(0).message.content, "last");
  // Two events of one sender stay two events downstream.
  EXPECT_NE(producer.calls[0][0][0].event_id, producer.calls[0][1][0].event_id);
  EXPECT_TRUE(producer.singles.empty());
}

TEST_F(LogicPostBatch, AGroupTheQueueRefusesIsUnavailableForItsEventOnly) {
  producer.refuse = {1};
  auto outcomes =
      logic->post_batch({post(1, "beast", "a"), post(2, "beast", "b"), post(3, "beast", "c")});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(code_of(outcomes[0]), "ok");
  EXPECT_EQ(code_of(outcomes[1]), "UNAVAILABLE");  // the queue is full: send again shortly
  EXPECT_EQ(code_of(outcomes[2]), "ok");
}

TEST_F(LogicPostBatch, ALeftDefaultRoomIsNotMember) {
  store->set_membership(5, "beast", false);
  auto outcomes = logic->post_batch({post(5, "beast", "gone"), post(5, "async", "still here")});
  EXPECT_EQ(code_of(outcomes[0]), "NOT_MEMBER");
  EXPECT_EQ(code_of(outcomes[1]), "ok");
}

}  // namespace
