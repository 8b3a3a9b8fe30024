// roomcast-bench: a cheap WebSocket load client on raw epoll.
//
// One master process sets up rooms (roomcast), publishes over HTTP keep-alive connections
// (pipelined, one connection per room so per-room order is the server's), and forks worker
// processes that each hold a share of the WebSocket clients. Every published body carries a
// marker "~R<room>~U<sender>~S<seq>~T<send time µs>~K<step>~" that receivers scan for, so
// latency, loss, duplicates and reordering are measured per connection. See bench/README.md.
//
// This header holds the types and the per-process state shared by the client's parts. Every
// process is single-threaded: the globals belong to the process (master or worker) using them.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using u64 = uint64_t;
using u32 = uint32_t;

u64 nowUs();
[[noreturn]] void die(const char* fmt, const char* a = "");

// ------------------------------------------------------------------------------------------
// Options (options.cc)

enum Dialect { D_ROOMCAST, D_NCHAN, D_SOCKETIO };
enum Scen { S_IDLE, S_ROOM, S_ROOMS, S_PIPELINE };

struct Opts {
  Dialect dialect = D_NCHAN;
  Scen scen = S_IDLE;
  std::string host = "127.0.0.1";
  int port = 0;      // HTTP: accounts, publishing (and WebSockets without --ports)
  std::string room;  // --room: S2 publishes into this existing room (a default room), no join
  std::vector<int> wsPorts;  // --ports: WebSockets round robin by client index, straight to these
  int conns = 1000;
  int roomSize = 10;
  std::vector<double> rates;
  double stepSecs = 5, drainSecs = 3, idleSecs = 3;
  int msgBytes = 100;
  int workers = 0;
  std::vector<int> serverPids;
  std::string adminToken;
  std::string out;
  std::string label;
  std::string target;  // name written to results (defaults to the dialect)
  double stopP99Ms = 250;
  bool stopOnLoss = true;
  int pubConns = 4;
  int pipeline = 64;
  int connectConc = 256;
  int perSrc = 5000;
  std::string runId;
  std::string subPath = "/sub/", pubPath = "/pub/";
  double connectTimeout = 180;
  int batchUs =
      1000;  // workers read at most this often under load (arrival times come from the kernel)
};

extern Opts O;

const char* scenName(Scen s);
const char* dialectName(Dialect d);
void parseArgs(int argc, char** argv);

// ------------------------------------------------------------------------------------------
// Latency histogram: log-linear, 32 sub-buckets per power of two (about 3% precision), in µs.

struct Hist {
  static constexpr int N = 64 + 40 * 32;
  u64 c[N];
  u64 n, max, sum;
  void clear() { memset(this, 0, sizeof *this); }
  static int idx(u64 v) {
    if (v < 64) return int(v);
    int msb = 63 - __builtin_clzll(v);
    int i = 64 + (msb - 6) * 32 + int((v >> (msb - 5)) - 32);
    return i < N ? i : N - 1;
  }
  static u64 val(int i) {
    if (i < 64) return u64(i);
    int k = i - 64, msb = k / 32 + 6;
    u64 sub = u64(k % 32 + 32);
    return (sub << (msb - 5)) + ((u64(1) << (msb - 5)) >> 1);
  }
  void add(u64 v) {
    c[idx(v)]++;
    n++;
    sum += v;
    if (v > max) max = v;
  }
  void merge(const Hist& o) {
    for (int i = 0; i < N; i++) c[i] += o.c[i];
    n += o.n;
    sum += o.sum;
    max = std::max(max, o.max);
  }
  u64 pct(double p) const {
    if (!n) return 0;
    u64 target = u64(std::ceil(p * double(n)));
    if (target < 1) target = 1;
    u64 acc = 0;
    for (int i = 0; i < N; i++) {
      acc += c[i];
      if (acc >= target) return std::min(val(i), max);
    }
    return max;
  }
};

// ------------------------------------------------------------------------------------------
// Control messages between master and workers (SOCK_SEQPACKET keeps message boundaries).

enum CtlType : u32 { CMD_CONNECT = 1, CMD_STEP, CMD_END, CMD_QUIT, REP_READY, REP_STATS };

struct CtlHdr {
  u32 type;
  u32 step;
  double rate;
  u64 a, b;  // CMD_END: number of room counts following
};

constexpr int kMaxWsPorts = 32;

struct ReadyRep {
  CtlHdr h;
  u64 ready, failed, firstStartUs, lastReadyUs, closed;
  u64 readyByPort[kMaxWsPorts];  // with --ports: ready members per port, in --ports order
};

struct StepStats {
  u64 delivered;  // unique deliveries of this step's messages
  u64 dups, reordered, late, wrongRoom, expected, lost, connsWithLoss, closed, errors;
  u64 sent, sendErrors;  // S4
  u64 firstDeliveryUs, lastDeliveryUs;
  u64 rateLimited;
  Hist h;
};

struct StatsRep {
  CtlHdr h;
  StepStats s;
};

// ------------------------------------------------------------------------------------------
// Connections

enum Kind : uint8_t { K_MEMBER, K_ADMIN, K_PUB };
enum St : uint8_t { C_IDLE, C_CONNECTING, C_HTTP, C_UPGRADE, C_WS, C_READY, C_DEAD };
enum Phase : uint8_t { P_CREATE, P_LOGIN, P_WS };
enum Ev : uint8_t { E_OTHER, E_DATA, E_HELLO, E_JOINED, E_CREATED, E_ERROR };

struct Track {
  u32 max;
  u64 win;
};

struct PubReq {
  u32 room, seq;
  u64 ts;        // scheduled send time
  u64 sent = 0;  // when it was written to the connection
};

struct PubState {
  std::deque<PubReq> inflight, backlog;
  u64 reconnects = 0;
};

struct Conn {
  int fd = -1;
  u32 gidx = 0;
  int32_t room = -1;
  uint16_t slot = 0;
  uint8_t kind = K_MEMBER, st = C_IDLE, phase = P_CREATE, frag = E_OTHER, attempts = 0;
  bool outArmed = false, counted = false, ok = false;
  u32 gen = 0;
  u32 uniqStep = 0, sendSeq = 0;
  int pub = -1;  // index into pubs
  std::string in, out, sid;
  Track* tr = nullptr;
};

// ------------------------------------------------------------------------------------------
// HTTP responses and small parsers (http_parse.cc)

struct HttpResp {
  int status = 0;
  bool close = false;
  const char* hdr = nullptr;
  size_t hdrLen = 0;
  const char* body = nullptr;
  size_t bodyLen = 0;
};

bool ieq(const char* a, const char* b, size_t n);
// Returns bytes consumed, 0 when incomplete, SIZE_MAX on garbage.
size_t parseResp(const char* p, size_t n, HttpResp& r);
std::string findCookieSid(const HttpResp& r);
// The string value of "key":"..." (no unescaping), or empty.
std::string_view jsonStr(const char* p, size_t n, std::string_view key);
u64 retryAfterUs(const HttpResp& r);

// ------------------------------------------------------------------------------------------
// Body markers and message bodies (markers.cc)

size_t writeMarker(char* b, size_t cap, u32 room, u32 slot, u32 seq, u64 ts, u32 step,
                   size_t total);
void scanMarkers(Conn& c, const char* p, size_t n);
// Builds the client message frame text for S4 (roomcast clientMessages).
const std::string& buildClientMessage(u32 room, u32 slot, u32 seq, u64 ts);
// Appends one publish request to out.
void appendPublish(std::string& out, u32 room, u32 seq, u64 ts);

// ------------------------------------------------------------------------------------------
// Per-process connection state (connection.cc)

extern int gEp;
extern std::vector<Conn> gConns;
extern std::vector<PubState> gPubs;
extern Track* gTracks;
extern int gSlots;
extern char* gRbuf;
constexpr size_t RBUF = 256 * 1024;
extern u64 gNow;          // monotonic µs; for received data, the kernel's arrival time
extern int64_t gRealOff;  // CLOCK_REALTIME - CLOCK_MONOTONIC in µs, taken once before fork
extern u32 gStep;
extern bool gInStep;
extern StepStats gS;
extern u32 gRng;
extern std::vector<std::string> gRoomIds;  // roomcast ids by room index, or channel names
extern std::string gRoomPrefix;            // "b<run>r"
extern std::string gHostHdr;
extern std::vector<u64>* gRoomSent;  // S4, per local room
extern u32 gRoomLo;

// connect bookkeeping (per process)
extern u64 gReady, gFailed, gClosed, gFirstStart, gLastReady;
extern u64 gReadyByPort[kMaxWsPorts];
extern size_t gNextStart;
extern long gInFlight;
extern bool gConnecting;
extern bool gAccountsOnly;  // roomcast: first pass only creates accounts (sid), no WebSocket
extern u64 gAccounts;
extern std::map<int, u64> gCloseCodes;

// Account requests the server refused for now (429 rate limit, 503 hashing queue full).
struct AccountRetry {
  u64 dueUs;
  u32 idx;
};
extern std::vector<AccountRetry> gRetries;

void armOut(Conn& c, bool on);
void closeConn(Conn& c, int code);
void sendRaw(Conn& c, const char* p, size_t n);
void sendFrame(Conn& c, int op, const char* p, size_t n);
void sendText(Conn& c, std::string_view s);
bool startConnect(Conn& c);
// The port a connection goes to: a --ports entry for WebSockets, else --port.
int portFor(const Conn& c);
// The Host header for that port.
const std::string& hostHeaderFor(const Conn& c);
void failConn(Conn& c, const char* why, int status);
size_t consume(Conn& c, const char* p, size_t n);

// Runs one epoll round (timeout ms). ctlFd gets tag CTL_TAG + index.
constexpr u64 CTL_TAG = u64(1) << 40;
extern std::function<void(int)> gOnCtl;
int pollOnce(int timeoutMs);
void addCtl(int fd, int idx);

// Timeout (ms) until the next paced send.
extern int gPaceTimeoutMs;
int paceTimeout(u64 start, u64 sent, double rate);

// ------------------------------------------------------------------------------------------
// Dialects (dialect.cc)

void markReady(Conn& c);
void onConnected(Conn& c);
void onText(Conn& c, bool first, const char* p, size_t n);
void onHttpResp(Conn& c, const HttpResp& r);
void onClosed(Conn& c, int code);

// Master-side hooks (set in master).
extern std::function<void(Conn&, const char*, size_t)> gOnAdminCreated;
extern std::function<void(Conn&)> gOnAdminHello;
extern std::function<void(Conn&, const HttpResp&)> gOnPubResp;
extern std::function<void(Conn&)> gOnPubClosed;

// ------------------------------------------------------------------------------------------
// /proc (proc_stats.cc)

bool procCpu(int pid, double& secs);
long serverPss();
double serverCpu();
long serverRss();
// VmRSS of each --server-pid, in that order (-1 for a process that is gone).
std::vector<long> serverRssEach();
// Processes holding a listening TCP socket on O.port.
std::vector<int> discoverPids();

// ------------------------------------------------------------------------------------------
// Processes (worker.cc, master.cc)

void ctlSend(int fd, const void* p, size_t n);
// Runs a worker process for the clients [lo, hi) on the control socket ctlFd; never returns.
[[noreturn]] void workerMain(int ctlFd, u32 lo, u32 hi);
int masterMain();

}  // namespace bench
