// Command-line options of roomcast-bench, and the small helpers every process uses.

#include "bench.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

u64 nowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return u64(ts.tv_sec) * 1000000u + u64(ts.tv_nsec) / 1000u;
}

[[noreturn]] void die(const char* fmt, const char* a) {
  fprintf(stderr, "roomcast-bench: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n");
  exit(2);
}

Opts O;

const char* scenName(Scen s) {
  switch (s) {
    case S_IDLE:
      return "S1";
    case S_ROOM:
      return "S2";
    case S_ROOMS:
      return "S3";
    default:
      return "S4";
  }
}
const char* dialectName(Dialect d) {
  return d == D_ROOMCAST ? "roomcast" : d == D_NCHAN ? "nchan" : "socketio";
}

void usage() {
  puts(
      "usage: roomcast-bench --target roomcast|nchan|socketio --port P [options]\n"
      "  --ports p1,p2,...        WebSockets go straight to these ports, round robin by client\n"
      "                           (e.g. every comet of a cluster); --port still takes accounts\n"
      "                           and publishing (at most 32)\n"
      "  --room ID                S2 (roomcast): publish into this existing room that every\n"
      "                           account belongs to (a default room) instead of creating one;\n"
      "                           members are ready at hello, without a join\n"
      "  --scenario S1|S2|S3|S4   idle | one room | rooms of --room-size | client messages\n"
      "  --conns N                WebSocket clients (spread over worker processes)\n"
      "  --room-size M            members per room (S3/S4; S2 uses one room of all conns)\n"
      "  --rates a,b,c            publish rates in msg/s, one step each\n"
      "  --step-secs S --drain-secs S --idle-secs S\n"
      "  --msg-bytes B            message content size (default 100)\n"
      "  --workers W              worker processes (default ceil(N/8000))\n"
      "  --server-pid P[,P]       server processes for CPU/RSS (default: found by port)\n"
      "  --admin-token T          roomcast push API token\n"
      "  --out FILE --label L --name NAME (target name in results)\n"
      "  --stop-p99-ms X (250) --no-stop-on-loss\n"
      "  --pub-conns K (4) --pipeline D (64) --connect-conc C (256) --per-src N (5000)\n"
      "  --batch-us U (1000)      workers poll at most every U µs while busy; latency uses\n"
      "                           kernel receive timestamps (SO_TIMESTAMPNS), so it stays exact\n"
      "  --sub-path /sub/ --pub-path /pub/ --run-id ID");
}

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> r;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(c, b);
    if (e == std::string::npos) e = s.size();
    if (e > b) r.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return r;
}

namespace {

// Options that take one plain value, by type.
const std::pair<const char*, int Opts::*> kIntOpts[] = {
    {"--port", &Opts::port},          {"--conns", &Opts::conns},
    {"--room-size", &Opts::roomSize}, {"--msg-bytes", &Opts::msgBytes},
    {"--workers", &Opts::workers},    {"--pub-conns", &Opts::pubConns},
    {"--pipeline", &Opts::pipeline},  {"--connect-conc", &Opts::connectConc},
    {"--per-src", &Opts::perSrc},     {"--batch-us", &Opts::batchUs},
};
const std::pair<const char*, double Opts::*> kDoubleOpts[] = {
    {"--step-secs", &Opts::stepSecs},
    {"--drain-secs", &Opts::drainSecs},
    {"--idle-secs", &Opts::idleSecs},
    {"--stop-p99-ms", &Opts::stopP99Ms},
    {"--connect-timeout", &Opts::connectTimeout},
};
const std::pair<const char*, std::string Opts::*> kStringOpts[] = {
    {"--host", &Opts::host},        {"--admin-token", &Opts::adminToken},
    {"--out", &Opts::out},          {"--label", &Opts::label},
    {"--name", &Opts::target},      {"--sub-path", &Opts::subPath},
    {"--pub-path", &Opts::pubPath}, {"--run-id", &Opts::runId},
    {"--room", &Opts::room},
};

void parseTarget(const std::string& v) {
  if (v == "roomcast")
    O.dialect = D_ROOMCAST;
  else if (v == "nchan")
    O.dialect = D_NCHAN;
  else if (v == "socketio")
    O.dialect = D_SOCKETIO;
  else
    die("unknown target %s", v.c_str());
}

void parseScenario(const std::string& v) {
  if (v == "S1" || v == "idle")
    O.scen = S_IDLE;
  else if (v == "S2" || v == "room")
    O.scen = S_ROOM;
  else if (v == "S3" || v == "rooms")
    O.scen = S_ROOMS;
  else if (v == "S4" || v == "pipeline")
    O.scen = S_PIPELINE;
  else
    die("unknown scenario %s", v.c_str());
}

// Sets a plain-valued option; false when a is not one.
bool setPlainOption(const std::string& a, const std::function<std::string()>& val) {
  for (auto& [name, field] : kIntOpts)
    if (a == name) {
      O.*field = atoi(val().c_str());
      return true;
    }
  for (auto& [name, field] : kDoubleOpts)
    if (a == name) {
      O.*field = atof(val().c_str());
      return true;
    }
  for (auto& [name, field] : kStringOpts)
    if (a == name) {
      O.*field = val();
      return true;
    }
  return false;
}

// Checks the options together and fills in the defaults that depend on others.
void finishOptions() {
  if (O.port <= 0) die("--port is required%s");
  if (int(O.wsPorts.size()) > kMaxWsPorts) die("at most 32 --ports%s");
  for (int p : O.wsPorts)
    if (p <= 0 || p > 65535) die("bad port in --ports%s");
  if (O.conns < 1) die("--conns must be positive%s");
  if (O.scen == S_ROOM) O.roomSize = O.conns;
  if (O.scen == S_IDLE) O.rates.clear();
  if (O.roomSize < 1) O.roomSize = 1;
  if (O.scen == S_PIPELINE && O.dialect != D_ROOMCAST) die("S4 needs --target roomcast%s");
  if (!O.room.empty() && (O.scen != S_ROOM || O.dialect != D_ROOMCAST))
    die("--room needs --scenario S2 --target roomcast%s");
  if (O.scen != S_IDLE && O.conns % O.roomSize) die("--conns must be a multiple of --room-size%s");
  if (O.msgBytes < 48) O.msgBytes = 48;
  if (O.workers <= 0) O.workers = std::max(1, (O.conns + 7999) / 8000);
  if (O.runId.empty())
    O.runId = std::to_string(time(nullptr) % 100000000) + std::to_string(getpid() % 1000);
  if (O.target.empty()) O.target = dialectName(O.dialect);
}

}  // namespace

void parseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    std::function<std::string()> val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for %s", a.c_str());
      return argv[++i];
    };
    if (setPlainOption(a, val)) continue;
    if (a == "--target")
      parseTarget(val());
    else if (a == "--scenario")
      parseScenario(val());
    else if (a == "--rates")
      for (auto& r : split(val(), ',')) O.rates.push_back(atof(r.c_str()));
    else if (a == "--ports")
      for (auto& r : split(val(), ',')) O.wsPorts.push_back(atoi(r.c_str()));
    else if (a == "--server-pid")
      for (auto& r : split(val(), ',')) O.serverPids.push_back(atoi(r.c_str()));
    else if (a == "--no-stop-on-loss")
      O.stopOnLoss = false;
    else if (a == "-h" || a == "--help") {
      usage();
      exit(0);
    } else
      die("unknown option %s", a.c_str());
  }
  finishOptions();
}

}  // namespace bench
