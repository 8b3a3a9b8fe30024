// roomcast-presence-consumer: an example consumer of the presence topic (roomcast.presence),
// as a push-notification service would read it. Each record is {"userId","online","at",
// "epoch"} keyed by the user id. The rule: keep the last epoch applied per user and drop any
// record whose epoch is not above it; records of one user may then arrive late, twice, or
// from two Logics in either order, and the state still ends right.
//
//   roomcast-presence-consumer --brokers HOST:PORT[,...] [--topic roomcast.presence]
//                              [--group ID]
//
// Without --group it reads every partition from the beginning (no offsets stored); with one,
// it joins that consumer group (earliest offset when the group has none) and commits. Prints
// one JSON line per record: the record's fields, "applied" (false: stale, dropped) and
// "onlineUsers" (how many users the state holds online after it). Runs until SIGTERM/SIGINT.
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop = true;
}

struct Options {
  std::string brokers;
  std::string topic = "roomcast.presence";
  std::string group;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "roomcast-presence-consumer: " << why
            << "\nusage: roomcast-presence-consumer --brokers LIST [--topic NAME] [--group ID]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value for " + a);
    std::string v = argv[++i];
    if (a == "--brokers")
      o.brokers = v;
    else if (a == "--topic")
      o.topic = v;
    else if (a == "--group")
      o.group = v;
    else
      usage("unknown argument " + a);
  }
  if (o.brokers.empty()) usage("--brokers is required");
  return o;
}

// What the consumer knows of each user: the last transition it applied.
struct UserState {
  bool online = false;
  int64_t epoch = 0;
};

class PresenceState {
 public:
  // Applies one record by the epoch rule; false when it is stale (or malformed).
  bool apply(int64_t user, bool online, int64_t epoch) {
    auto& s = users_[user];
    if (epoch <= s.epoch) return false;
    if (online != s.online) online_ += online ? 1 : -1;
    s = {online, epoch};
    return true;
  }
  int64_t online() const { return online_; }

 private:
  std::unordered_map<int64_t, UserState> users_;
  int64_t online_ = 0;
};

void handle(PresenceState& state, const RdKafka::Message& m) {
  boost::json::object out;
  try {
    auto v = boost::json::parse(std::string_view(static_cast<const char*>(m.payload()), m.len()));
    auto& o = v.as_object();
    int64_t user = o.at("userId").to_number<int64_t>();
    bool online = o.at("online").as_bool();
    int64_t epoch = o.at("epoch").to_number<int64_t>();
    out = o;
    out["applied"] = state.apply(user, online, epoch);
  } catch (const std::exception& e) {
    out["error"] = std::string("malformed record: ") + e.what();
  }
  out["onlineUsers"] = state.online();
  std::cout << boost::json::serialize(out) << std::endl;
}

std::unique_ptr<RdKafka::Conf> make_conf(const Options& o) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& k, const std::string& v) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) usage(k + ": " + err);
  };
  set("bootstrap.servers", o.brokers);
  set("client.id", "roomcast-presence-consumer");
  set("log_level", "3");
  set("group.id", o.group.empty() ? "roomcast-presence-consumer" : o.group);
  set("auto.offset.reset", "earliest");
  set("enable.auto.commit", o.group.empty() ? "false" : "true");
  return conf;
}

// Without a group: every partition of the topic from its first record.
bool assign_all(RdKafka::KafkaConsumer& consumer, const std::string& topic) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&consumer, topic, nullptr, err));
  RdKafka::Metadata* raw = nullptr;
  if (!handle || consumer.metadata(false, handle.get(), &raw, 5000) != RdKafka::ERR_NO_ERROR)
    return false;
  std::unique_ptr<RdKafka::Metadata> md(raw);
  std::vector<RdKafka::TopicPartition*> parts;
  for (auto* t : *md->topics())
    if (t->topic() == topic && t->err() == RdKafka::ERR_NO_ERROR)
      for (auto* p : *t->partitions())
        parts.push_back(
            RdKafka::TopicPartition::create(topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
  bool ok = !parts.empty() && consumer.assign(parts) == RdKafka::ERR_NO_ERROR;
  RdKafka::TopicPartition::destroy(parts);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  auto conf = make_conf(o);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) usage("cannot create the consumer: " + err);
  if (!o.group.empty()) {
    if (consumer->subscribe({o.topic}) != RdKafka::ERR_NO_ERROR) usage("cannot subscribe");
  } else {
    // The topic may not exist yet (no Logic has started): wait for it.
    while (!g_stop && !assign_all(*consumer, o.topic)) usleep(200 * 1000);
  }
  std::cerr << "roomcast-presence-consumer: reading " << o.topic << std::endl;
  PresenceState state;
  while (!g_stop) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR_NO_ERROR) handle(state, *m);
  }
  consumer->close();
  return 0;
}
