// roomcast-kafka-mock: librdkafka's mock cluster (the real Kafka wire protocol, several brokers,
// consumer groups, fault injection) as a standalone process, standing in for a Kafka cluster in
// tests and local clusters on machines without one.
//
//   roomcast-kafka-mock [--brokers 3] [--topic roomcast-messages]... [--partitions 8]
//                       [--bootstrap-file FILE] [--control-port PORT]
//
// Every --topic given is created at start (default: roomcast-messages), each with --partitions.
//
// Prints the bootstrap list ("127.0.0.1:p1,127.0.0.1:p2,...") as one line on stdout (and into
// FILE when given), then runs until SIGTERM or SIGINT.
//
// Control protocol (fault injection for tests): with --control-port, a TCP listener on
// 127.0.0.1:PORT reads one command per line and answers one line, "ok" or "error <why>":
//   ping                       liveness check
//   down <broker-id>           the broker stops answering (ids are 1..brokers)
//   up <broker-id>             the broker answers again
//   errors <n> [<api-key>]     the next n requests of that API (default 0 = Produce) fail with
//                              NOT_ENOUGH_REPLICAS, a retriable error (the idempotent producer
//                              retries without duplicates)
//   rtt <broker-id> <ms>       adds round-trip latency to a broker
//   topic <name> <partitions>  creates a topic (replication factor = min(3, brokers))
// Try it with: printf 'down 1\n' | nc -q1 127.0.0.1 PORT
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

struct Options {
  int brokers = 3;
  std::vector<std::string> topics;  // empty: roomcast-messages
  int partitions = 8;
  std::string bootstrap_file;
  int control_port = 0;
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "roomcast-kafka-mock: " << why
            << "\nusage: roomcast-kafka-mock [--brokers N] [--topic NAME]... [--partitions N]"
               " [--bootstrap-file FILE] [--control-port PORT]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--brokers")
      o.brokers = std::atoi(value().c_str());
    else if (a == "--topic")
      o.topics.push_back(value());
    else if (a == "--partitions")
      o.partitions = std::atoi(value().c_str());
    else if (a == "--bootstrap-file")
      o.bootstrap_file = value();
    else if (a == "--control-port")
      o.control_port = std::atoi(value().c_str());
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.brokers < 1 || o.partitions < 1) usage("brokers and partitions must be positive");
  if (o.topics.empty()) o.topics.push_back("roomcast-messages");
  return o;
}

std::string run_command(rd_kafka_mock_cluster_t* mc, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cmd == "ping") return "ok";
  if (cmd == "down" || cmd == "up") {
    int id = 0;
    if (!(in >> id) || id < 1 || id > brokers) return "error bad broker id";
    err =
        cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
  } else if (cmd == "errors") {
    int n = 0, api = 0;  // api key 0 = Produce
    if (!(in >> n) || n < 0) return "error bad count";
    in >> api;
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(n),
                                            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), errors.size(),
                                            errors.data());
  } else if (cmd == "rtt") {
    int id = 0, ms = 0;
    if (!(in >> id >> ms) || id < 1 || id > brokers || ms < 0) return "error bad arguments";
    err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
  } else if (cmd == "topic") {
    std::string name;
    int partitions = 0;
    if (!(in >> name >> partitions) || partitions < 1) return "error bad arguments";
    err = rd_kafka_mock_topic_create(mc, name.c_str(), partitions, std::min(3, brokers));
  } else {
    return "error unknown command";
  }
  return err ? std::string("error ") + rd_kafka_err2str(err) : "ok";
}

// Serves the control port on this thread until a signal arrives. Commands are rare and tiny:
// one client at a time is enough.
void serve_control(rd_kafka_mock_cluster_t* mc, int brokers, int port) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 8) != 0) {
    std::perror("roomcast-kafka-mock: control port");
    std::exit(1);
  }
  while (!g_stop) {
    pollfd p{lfd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    std::string buf;
    char chunk[512];
    while (!g_stop) {
      pollfd c{fd, POLLIN, 0};
      if (poll(&c, 1, 200) == 0) continue;
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<std::size_t>(n));
      for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        std::string reply = run_command(mc, brokers, line) + "\n";
        std::cerr << "roomcast-kafka-mock: " << line << " -> " << reply;
        if (write(fd, reply.data(), reply.size()) < 0) break;
      }
    }
    close(fd);
  }
  close(lfd);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);

  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "roomcast-kafka-mock: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, o.brokers);
  if (!mc) {
    std::cerr << "roomcast-kafka-mock: cannot create the mock cluster\n";
    return 1;
  }
  for (auto& topic : o.topics) {
    if (auto e =
            rd_kafka_mock_topic_create(mc, topic.c_str(), o.partitions, std::min(3, o.brokers))) {
      std::cerr << "roomcast-kafka-mock: topic " << topic << ": " << rd_kafka_err2str(e) << "\n";
      return 1;
    }
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  if (!o.bootstrap_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half a line.
    std::string tmp = o.bootstrap_file + ".tmp";
    std::ofstream(tmp) << bootstraps << "\n";
    std::rename(tmp.c_str(), o.bootstrap_file.c_str());
  }
  std::cout << bootstraps << std::endl;

  if (o.control_port > 0) {
    serve_control(mc, o.brokers, o.control_port);
  } else {
    while (!g_stop) usleep(200 * 1000);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
