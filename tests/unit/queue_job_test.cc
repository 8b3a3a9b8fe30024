// The embedded queue (order per key, redelivery, drain on stop) and Job (the sequencer:
// per-room sequence, idempotency, persist before push).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "comet/comet_push.h"
#include "common/ids.h"
#include "job/job.h"
#include "queue/gathered.h"
#include "queue/local_queue.h"
#include "store/sqlite_store.h"

using namespace roomcast;
namespace fs = std::filesystem;

namespace {
QueueRecord chat(const std::string& room, const std::string& key, const std::string& content,
                 uint64_t event_id = 1, int64_t sender = 1) {
  QueueRecord r;
  r.room_id = room;
  r.event_id = event_id;
  r.message = {room, 0, sender, "ann", content, 1, "", key};
  return r;
}

// Records what Job pushes, and checks each push is already persisted.
class RecordingGateway : public CometPush {
 public:
  explicit RecordingGateway(Store* store = nullptr) : store_(store) {}
  void push_room_messages(std::shared_ptr<const RoomMessages> b) override {
    std::lock_guard lock(mutex);
    if (store_)
      for (auto& m : b->messages)
        persisted_before_push &= store_->find_by_dedup_key(m.dedup_key).has_value();
    batches.push_back(b);
  }
  void push_room_event(const std::string& room, std::shared_ptr<const std::string> e) override {
    std::lock_guard lock(mutex);
    events.push_back("room:" + room + ":" + *e);
  }
  void push_room_events(const std::string& room,
                        const std::vector<std::shared_ptr<const std::string>>& es) override {
    std::string all;
    for (auto& e : es) all += *e;
    std::lock_guard lock(mutex);
    events.push_back("room:" + room + ":" + all);
  }
  void push_users_event(const std::vector<int64_t>& ids,
                        std::shared_ptr<const std::string> e) override {
    std::lock_guard lock(mutex);
    events.push_back("users:" + std::to_string(ids.size()) + ":" + *e);
  }
  void broadcast_event(std::shared_ptr<const std::string> e) override {
    std::lock_guard lock(mutex);
    events.push_back("all:" + *e);
  }
  void sync_membership(const MembershipChange& c) override {
    std::lock_guard lock(mutex);
    events.push_back("member:" + std::to_string(c.user_id) + ":" + c.room_id + ":" +
                     (c.joined ? "in" : "out") + ":" + std::to_string(c.origin_conn));
  }
  void relay_notice(std::shared_ptr<const RelayedNotice> n) override {
    std::lock_guard lock(mutex);
    notices.push_back(std::move(n));
  }
  std::mutex mutex;
  std::vector<std::shared_ptr<const RoomMessages>> batches;
  std::vector<std::shared_ptr<const RelayedNotice>> notices;
  std::vector<std::string> events;
  bool persisted_before_push = true;

 private:
  Store* store_;
};
}  // namespace

TEST(LocalQueue, KeepsOrderPerKeyAndBatches) {
  LocalQueue q(4, 2, 64);
  std::mutex m;
  std::map<std::string, std::vector<std::string>> seen;
  std::atomic<int> batches{0}, total{0};
  q.start([&](std::span<const QueueRecord> batch) {
    ++batches;
    std::lock_guard lock(m);
    for (auto& r : batch) {
      seen[r.room_id].push_back(r.message.content);
      ++total;
    }
  });
  for (int i = 0; i < 500; ++i)
    q.produce({chat("room" + std::to_string(i % 5), "k" + std::to_string(i), std::to_string(i))});
  q.stop();  // drains
  EXPECT_EQ(total, 500);
  EXPECT_LT(batches, 500);  // the window merged records
  for (auto& [room, contents] : seen)
    for (std::size_t i = 1; i < contents.size(); ++i)
      EXPECT_LT(std::stoi(contents[i - 1]), std::stoi(contents[i])) << room;
}

TEST(LocalQueue, RedeliversABatchWhoseHandlerThrew) {
  LocalQueue q(1, 0, 10);
  std::atomic<int> calls{0};
  std::vector<std::string> delivered;
  q.start([&](std::span<const QueueRecord> batch) {
    if (++calls == 1) throw std::runtime_error("store down");
    for (auto& r : batch) delivered.push_back(r.message.content);
  });
  q.produce({chat("r", "a", "1"), chat("r", "b", "2")});
  q.stop();
  EXPECT_GE(calls, 2);
  EXPECT_EQ(delivered, (std::vector<std::string>{"1", "2"}));
}

TEST(LocalQueue, StopIsBoundedWhenTheHandlerKeepsFailing) {
  LocalQueue::Bounds bounds;
  bounds.stop_grace = std::chrono::milliseconds(200);
  LocalQueue q(1, 0, 10, bounds);
  std::atomic<int> calls{0};
  q.start([&](std::span<const QueueRecord>) {
    ++calls;
    throw std::runtime_error("store down");
  });
  q.produce({chat("r", "a", "1")});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // retrying meanwhile
  auto start = std::chrono::steady_clock::now();
  q.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_GE(calls, 2);
}

TEST(LocalQueue, AFullPartitionPushesBackOnSendersAndTakesThemAgainOnceDrained) {
  LocalQueue::Bounds bounds;
  bounds.max_records = 3;
  bounds.full_wait = std::chrono::milliseconds(100);
  LocalQueue q(1, 0, 10, bounds);
  std::atomic<bool> release{false};
  std::atomic<int> handled{0};
  q.start([&](std::span<const QueueRecord> batch) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    handled += static_cast<int>(batch.size());
  });
  q.produce({chat("r", "a", "1")});
  q.produce({chat("r", "b", "2"), chat("r", "c", "3")});
  EXPECT_THROW(q.produce({chat("r", "d", "4")}), QueueFullError);
  release = true;
  q.produce({chat("r", "d", "4")});  // waits for room, then is taken
  q.stop();
  EXPECT_EQ(handled, 4);
}

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("roomcast-job-" + random_hex(6));
    fs::create_directories(dir);
    store = std::make_unique<SqliteStore>((dir / "db").string());
    gateway = std::make_unique<RecordingGateway>(store.get());
    job = std::make_unique<Job>(*store, *gateway);
  }
  void TearDown() override {
    job.reset();
    store.reset();
    fs::remove_all(dir);
  }
  fs::path dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<RecordingGateway> gateway;
  std::unique_ptr<Job> job;
};

TEST_F(JobTest, SequencesEachRoomWithoutHolesAndPushesOnePerRoomBatch) {
  std::vector<QueueRecord> batch{chat("a", "1", "a1"), chat("b", "2", "b1"), chat("a", "3", "a2"),
                                 chat("a", "4", "a3")};
  job->handle_batch(batch);
  ASSERT_EQ(gateway->batches.size(), 2u);
  auto& a = *gateway->batches[0];
  EXPECT_EQ(a.room_id, "a");
  ASSERT_EQ(a.messages.size(), 3u);
  EXPECT_EQ(a.first_seq(), 1u);
  EXPECT_EQ(a.last_seq(), 3u);
  EXPECT_EQ(a.messages[2].content, "a3");
  EXPECT_NE(a.event.find("\"3-0\""), std::string::npos);
  EXPECT_EQ(gateway->batches[1]->first_seq(), 1u);
  EXPECT_EQ(store->last_seq("a"), 3u);
  EXPECT_TRUE(gateway->persisted_before_push);

  job->handle_batch(std::vector<QueueRecord>{chat("a", "5", "a4")});
  EXPECT_EQ(gateway->batches.back()->first_seq(), 4u);
}

TEST_F(JobTest, RepeatedKeysCreateNothingNew) {
  job->handle_batch(std::vector<QueueRecord>{chat("a", "k1", "x"), chat("a", "k1", "x")});
  EXPECT_EQ(store->last_seq("a"), 1u);
  // A redelivery (or a client retry) of an accepted key: re-pushed with its original id.
  job->handle_batch(std::vector<QueueRecord>{chat("a", "k1", "x"), chat("a", "k2", "y")});
  EXPECT_EQ(store->last_seq("a"), 2u);
  ASSERT_EQ(gateway->batches.size(), 3u);
  EXPECT_EQ(gateway->batches[1]->first_seq(), 1u);  // the repeat, same id as before
  EXPECT_EQ(gateway->batches[2]->first_seq(), 2u);
}

TEST_F(JobTest, NeverJoinsTwoEventsOfOneSenderButJoinsSenders) {
  // Sender 1 sends events 10 and 11, sender 2 event 20 in between: 10 and 20 share a push,
  // 11 starts the next one.
  job->handle_batch(std::vector<QueueRecord>{chat("a", "1", "x", 10, 1), chat("a", "2", "y", 10, 1),
                                             chat("a", "3", "z", 20, 2),
                                             chat("a", "4", "w", 11, 1)});
  ASSERT_EQ(gateway->batches.size(), 2u);
  EXPECT_EQ(gateway->batches[0]->messages.size(), 3u);
  EXPECT_EQ(gateway->batches[1]->first_seq(), 4u);
  EXPECT_NE(gateway->batches[1]->event.find("\"4-0\""), std::string::npos);
  EXPECT_EQ(gateway->batches[1]->event.find("\"3-0\""), std::string::npos);
}

TEST_F(JobTest, EveryPushedMessageCarriesItsRecordsTrace) {
  auto traced = [](QueueRecord r, uint64_t trace) {
    r.trace_id = TraceId{trace};
    return r;
  };
  job->handle_batch(std::vector<QueueRecord>{traced(chat("a", "1", "x", 10, 1), 0xa1),
                                             traced(chat("a", "2", "y", 11, 1), 0xa2)});
  // A repeat (client retry) is pushed again with the trace of the record that repeated it.
  job->handle_batch(std::vector<QueueRecord>{traced(chat("a", "1", "x", 12, 1), 0xa3)});
  ASSERT_EQ(gateway->batches.size(), 3u);  // two events of one sender: two pushes, then the repeat
  EXPECT_EQ(gateway->batches[0]->trace_ids, std::vector<TraceId>{TraceId{0xa1}});
  EXPECT_EQ(gateway->batches[1]->trace_ids, std::vector<TraceId>{TraceId{0xa2}});
  EXPECT_EQ(gateway->batches[2]->first_seq(), 1u);
  EXPECT_EQ(gateway->batches[2]->trace_ids, std::vector<TraceId>{TraceId{0xa3}});
}

TEST_F(JobTest, AKeyRepeatedInAnotherRecordRoomIsPushedOnlyIntoItsOwnRoom) {
  job->handle_batch(std::vector<QueueRecord>{chat("a", "k", "in a")});
  // A record naming room b with a key stored for room a (keys include the room, so only a
  // forged or legacy key does this): nothing is created, and nothing reaches room b.
  job->handle_batch(std::vector<QueueRecord>{chat("b", "k", "in b")});
  EXPECT_EQ(store->last_seq("b"), 0u);
  for (auto& b : gateway->batches) EXPECT_EQ(b->room_id, "a");
}

TEST_F(JobTest, ResumesTheSequenceFromTheStore) {
  job->handle_batch(std::vector<QueueRecord>{chat("a", "1", "x"), chat("a", "2", "y")});
  Job fresh(*store, *gateway);  // e.g. a restart or a partition moving to another Job
  fresh.handle_batch(std::vector<QueueRecord>{chat("a", "3", "z")});
  EXPECT_EQ(gateway->batches.back()->first_seq(), 3u);
}

TEST_F(JobTest, RoutesPushRecords) {
  QueueRecord users;
  users.type = PushKind::kUsers;
  users.user_ids = {1, 2};
  users.body = "U";
  QueueRecord room;
  room.type = PushKind::kRoom;
  room.room_id = "r";
  room.body = "R";
  QueueRecord all;
  all.type = PushKind::kBroadcast;
  all.body = "B";
  QueueRecord room2 = room;
  room2.body = "S";
  QueueRecord other = room;
  other.room_id = "q";
  QueueRecord left;
  left.type = PushKind::kMembership;
  left.room_id = "r";
  left.user_ids = {7};
  left.joined_room = false;
  left.origin_conn = 99;
  QueueRecord joined = left;
  joined.joined_room = true;
  job->handle_batch(std::vector<QueueRecord>{users, room, all, left, other, room2, joined});
  // Room pushes are grouped per room, in order, after the user, broadcast and membership ones.
  EXPECT_EQ(gateway->events,
            (std::vector<std::string>{"users:2:U", "all:B", "member:7:r:out:99", "member:7:r:in:99",
                                      "room:r:RS", "room:q:R"}));
}

TEST_F(JobTest, RelaysNoticesFromACometAndStoresNothing) {
  QueueRecord typing;
  typing.type = PushKind::kRoom;
  typing.room_id = "r";
  typing.body = "T";
  typing.origin_comet = "comet-1";
  typing.exclude_user = 5;
  QueueRecord read = typing;
  read.type = PushKind::kUsers;
  read.user_ids = {5};
  read.exclude_user = 0;
  read.body = "S";
  QueueRecord presence = typing;
  presence.body.clear();
  presence.exclude_user = 0;
  presence.joined = {{7, "x"}};
  presence.left = {{8, "y"}};
  job->handle_batch(std::vector<QueueRecord>{typing, read, presence});
  EXPECT_TRUE(gateway->events.empty());  // never pushed as an ordinary room or user event
  ASSERT_EQ(gateway->notices.size(), 3u);
  auto& t = *gateway->notices[0];
  EXPECT_EQ(std::tie(t.origin_comet, t.room_id, t.event, t.except_user),
            std::tuple(std::string("comet-1"), std::string("r"), std::string("T"), int64_t{5}));
  EXPECT_TRUE(t.user_ids.empty());
  EXPECT_EQ(gateway->notices[1]->user_ids, std::vector<int64_t>{5});
  auto& p = *gateway->notices[2];
  EXPECT_TRUE(p.is_presence());
  ASSERT_EQ(p.joined.size(), 1u);
  ASSERT_EQ(p.left.size(), 1u);
  EXPECT_EQ(p.joined[0].username, "x");
  EXPECT_EQ(p.left[0].id, 8);
  EXPECT_EQ(store->last_seq("r"), 0u);
}

// A Kafka rebalance (queue/gathered.h): eager loses the whole round, cooperative only the
// revoked partitions; records gathered of partitions kept must stay (nothing fetches them again).
TEST(GatheredPartitions, ACooperativeRebalanceDropsOnlyTheRevokedPartitions) {
  auto gathered = [] {
    std::vector<GatheredPartition> parts(3);
    for (int32_t i = 0; i < 3; ++i) {
      parts[i].partition = i;
      parts[i].first_offset = 10;
      parts[i].last_offset = 14;
      parts[i].records.resize(5);
    }
    return parts;
  };
  auto parts = gathered();
  EXPECT_EQ(forget_lost_partitions(parts, false, {1}), 10u);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].partition, 0);
  EXPECT_EQ(parts[1].partition, 2);
  auto assigned_only = gathered();
  EXPECT_EQ(forget_lost_partitions(assigned_only, false, {}), 15u);  // new partitions: keep all
  auto eager = gathered();
  EXPECT_EQ(forget_lost_partitions(eager, true, {}), 0u);
  EXPECT_TRUE(eager.empty());
}
