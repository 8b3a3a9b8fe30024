// The Job path of the distributed mode, wired as `roomcast job` wires it: Kafka consumer ->
// Job -> CachedStore(MysqlStore) -> gateway, with a push failure forcing a redelivery.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "comet/comet_push.h"
#include "job/job.h"
#include "queue/kafka_queue.h"
#include "store/cached_store.h"
#include "store/mysql_store.h"
#include "test_env.h"

namespace roomcast {
namespace {

using namespace std::chrono_literals;
using test::unique;

struct FakeGateway : CometPush {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::vector<uint64_t>> pushed;  // room -> seqs, in push order
  int fail_next = 1;  // the first push fails: the batch is persisted but not acknowledged

  void push_room_messages(std::shared_ptr<const RoomMessages> batch) override {
    std::lock_guard lock(mutex);
    if (fail_next > 0) {
      --fail_next;
      throw std::runtime_error("comet unreachable");
    }
    for (auto& m : batch->messages) pushed[batch->room_id].push_back(m.seq);
    changed.notify_all();
  }
  void push_room_event(const std::string&, std::shared_ptr<const std::string>) override {}
  void push_users_event(const std::vector<int64_t>&, std::shared_ptr<const std::string>) override {}
  void broadcast_event(std::shared_ptr<const std::string>) override {}
  void sync_membership(const MembershipChange&) override {}
};

TEST(Pipeline, KafkaJobMysqlCacheAtLeastOnceWithoutDuplicates) {
  REQUIRE_SERVERS();
  KafkaOptions ko;
  ko.brokers = test::env("ROOMCAST_KAFKA_BROKERS");
  ko.topic = unique("t-pipe-");
  ko.group = unique("g");
  ko.session_timeout_ms = 6000;
  ko.heartbeat_interval_ms = 2000;
  ko.create_topic = false;  // the mock lacks CreateTopics; it auto-creates the topic (4 partitions)

  RedisClient redis(test::redis_options());
  MysqlPool pool(test::mysql_options());
  MysqlStore mysql(pool);
  CachedStore store(mysql, redis);
  std::vector<std::string> rooms = {unique("pa"), unique("pb"), unique("pc")};
  for (auto& r : rooms) store.ensure_room({r, r});

  std::vector<QueueRecord> records;
  for (int i = 0; i < 40; ++i)
    for (auto& r : rooms) {
      QueueRecord q;
      q.room_id = r;
      q.message = {r,
                   0,
                   5,
                   "zoe",
                   std::to_string(i),
                   1000 + i,
                   "c" + std::to_string(i),
                   "5:" + r + ":c" + std::to_string(i)};
      records.push_back(q);
      if (i % 10 == 0) records.push_back(q);  // a client retry: must not become a 2nd message
    }

  FakeGateway gateway;
  Job job(store, gateway);
  {
    KafkaProducer producer(ko);
    producer.produce(records);
  }
  std::atomic<int> assigned{0};
  KafkaConsumer consumer(ko, [&] {
    ++assigned;
    job.reset();
  });
  consumer.start([&](std::span<const QueueRecord> batch) { job.handle_batch(batch); });
  {
    std::unique_lock lock(gateway.mutex);
    ASSERT_TRUE(gateway.changed.wait_for(lock, 40s, [&] {
      for (auto& r : rooms)
        if (std::set<uint64_t>(gateway.pushed[r].begin(), gateway.pushed[r].end()).size() < 40)
          return false;
      return true;
    }));
  }
  consumer.stop();
  EXPECT_GE(assigned, 1);

  for (auto& r : rooms) {
    EXPECT_EQ(mysql.last_seq(r), 40u) << r;  // 40 messages, retries and redelivery included
    auto page = store.messages_between(r, 0, UINT64_MAX, 100);
    ASSERT_EQ(page.size(), 40u);
    for (std::size_t i = 0; i < page.size(); ++i) {
      EXPECT_EQ(page[i].seq, 40 - i);
      EXPECT_EQ(page[i].content, std::to_string(39 - i));  // room order = produce order
    }
  }
}

}  // namespace
}  // namespace roomcast
