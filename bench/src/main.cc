// roomcast-bench: a cheap WebSocket load client on raw epoll.
//
// One master process sets up rooms (roomcast), publishes over HTTP keep-alive connections
// (pipelined, one connection per room so per-room order is the server's), and forks worker
// processes that each hold a share of the WebSocket clients. Every published body carries a
// marker "~R<room>~U<sender>~S<seq>~T<send time µs>~K<step>~" that receivers scan for, so
// latency, loss, duplicates and reordering are measured per connection. See bench/README.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using u64 = uint64_t;
using u32 = uint32_t;

u64 nowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return u64(ts.tv_sec) * 1000000u + u64(ts.tv_nsec) / 1000u;
}

[[noreturn]] void die(const char* fmt, const char* a = "") {
  fprintf(stderr, "roomcast-bench: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n");
  exit(2);
}

// ------------------------------------------------------------------------------------------
// Options

enum Dialect { D_ROOMCAST, D_NCHAN, D_SOCKETIO };
enum Scen { S_IDLE, S_ROOM, S_ROOMS, S_PIPELINE };

struct Opts {
  Dialect dialect = D_NCHAN;
  Scen scen = S_IDLE;
  std::string host = "127.0.0.1";
  int port = 0;
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
  int batchUs = 1000;  // workers read at most this often under load (arrival times come from the kernel)
} O;

const char* scenName(Scen s) {
  switch (s) {
    case S_IDLE: return "S1";
    case S_ROOM: return "S2";
    case S_ROOMS: return "S3";
    default: return "S4";
  }
}
const char* dialectName(Dialect d) {
  return d == D_ROOMCAST ? "roomcast" : d == D_NCHAN ? "nchan" : "socketio";
}

void usage() {
  puts(
      "usage: roomcast-bench --target roomcast|nchan|socketio --port P [options]\n"
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

void parseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for %s", a.c_str());
      return argv[++i];
    };
    if (a == "--target") {
      std::string v = val();
      if (v == "roomcast") O.dialect = D_ROOMCAST;
      else if (v == "nchan") O.dialect = D_NCHAN;
      else if (v == "socketio") O.dialect = D_SOCKETIO;
      else die("unknown target %s", v.c_str());
    } else if (a == "--scenario") {
      std::string v = val();
      if (v == "S1" || v == "idle") O.scen = S_IDLE;
      else if (v == "S2" || v == "room") O.scen = S_ROOM;
      else if (v == "S3" || v == "rooms") O.scen = S_ROOMS;
      else if (v == "S4" || v == "pipeline") O.scen = S_PIPELINE;
      else die("unknown scenario %s", v.c_str());
    } else if (a == "--host") O.host = val();
    else if (a == "--port") O.port = atoi(val().c_str());
    else if (a == "--conns") O.conns = atoi(val().c_str());
    else if (a == "--room-size") O.roomSize = atoi(val().c_str());
    else if (a == "--rates") {
      for (auto& r : split(val(), ',')) O.rates.push_back(atof(r.c_str()));
    } else if (a == "--step-secs") O.stepSecs = atof(val().c_str());
    else if (a == "--drain-secs") O.drainSecs = atof(val().c_str());
    else if (a == "--idle-secs") O.idleSecs = atof(val().c_str());
    else if (a == "--msg-bytes") O.msgBytes = atoi(val().c_str());
    else if (a == "--workers") O.workers = atoi(val().c_str());
    else if (a == "--server-pid") {
      for (auto& r : split(val(), ',')) O.serverPids.push_back(atoi(r.c_str()));
    } else if (a == "--admin-token") O.adminToken = val();
    else if (a == "--out") O.out = val();
    else if (a == "--label") O.label = val();
    else if (a == "--name") O.target = val();
    else if (a == "--stop-p99-ms") O.stopP99Ms = atof(val().c_str());
    else if (a == "--no-stop-on-loss") O.stopOnLoss = false;
    else if (a == "--pub-conns") O.pubConns = atoi(val().c_str());
    else if (a == "--pipeline") O.pipeline = atoi(val().c_str());
    else if (a == "--connect-conc") O.connectConc = atoi(val().c_str());
    else if (a == "--per-src") O.perSrc = atoi(val().c_str());
    else if (a == "--sub-path") O.subPath = val();
    else if (a == "--pub-path") O.pubPath = val();
    else if (a == "--run-id") O.runId = val();
    else if (a == "--connect-timeout") O.connectTimeout = atof(val().c_str());
    else if (a == "--batch-us") O.batchUs = atoi(val().c_str());
    else if (a == "-h" || a == "--help") {
      usage();
      exit(0);
    } else die("unknown option %s", a.c_str());
  }
  if (O.port <= 0) die("--port is required%s");
  if (O.conns < 1) die("--conns must be positive%s");
  if (O.scen == S_ROOM) O.roomSize = O.conns;
  if (O.scen == S_IDLE) O.rates.clear();
  if (O.roomSize < 1) O.roomSize = 1;
  if (O.scen == S_PIPELINE && O.dialect != D_ROOMCAST) die("S4 needs --target roomcast%s");
  if (O.scen != S_IDLE && O.conns % O.roomSize) die("--conns must be a multiple of --room-size%s");
  if (O.msgBytes < 48) O.msgBytes = 48;
  if (O.workers <= 0) O.workers = std::max(1, (O.conns + 7999) / 8000);
  if (O.runId.empty()) O.runId = std::to_string(time(nullptr) % 100000000) + std::to_string(getpid() % 1000);
  if (O.target.empty()) O.target = dialectName(O.dialect);
}

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

struct ReadyRep {
  CtlHdr h;
  u64 ready, failed, firstStartUs, lastReadyUs, closed;
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
  u64 ts;
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

int gEp = -1;
std::vector<Conn> gConns;
std::vector<PubState> gPubs;
Track* gTracks = nullptr;
int gSlots = 1;
char* gRbuf;
constexpr size_t RBUF = 256 * 1024;
u64 gNow = 0;             // monotonic µs; for received data, the kernel's arrival time
int64_t gRealOff = 0;     // CLOCK_REALTIME - CLOCK_MONOTONIC in µs, taken once before fork
u32 gStep = 0;
bool gInStep = false;
StepStats gS;
u32 gRng = 0x9e3779b9;
std::vector<std::string> gRoomIds;  // roomcast ids by room index, or channel names
std::string gRoomPrefix;            // "b<run>r"
std::string gHostHdr;
std::vector<u64>* gRoomSent = nullptr;  // S4, per local room
u32 gRoomLo = 0;

// connect bookkeeping (per process)
u64 gReady = 0, gFailed = 0, gClosed = 0, gFirstStart = 0, gLastReady = 0;
size_t gNextStart = 0;
long gInFlight = 0;
bool gConnecting = false;
bool gAccountsOnly = false;  // roomcast: first pass only creates accounts (sid), no WebSocket
u64 gAccounts = 0;
std::map<int, u64> gCloseCodes;

u32 rnd() {
  gRng ^= gRng << 13;
  gRng ^= gRng >> 17;
  gRng ^= gRng << 5;
  return gRng;
}

void armOut(Conn& c, bool on) {
  if (c.outArmed == on || c.fd < 0) return;
  c.outArmed = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? u32(EPOLLOUT) : 0u);
  ev.data.u64 = u64(&c - gConns.data());
  epoll_ctl(gEp, EPOLL_CTL_MOD, c.fd, &ev);
}

void onClosed(Conn& c, int code);

void closeConn(Conn& c, int code) {
  if (c.fd >= 0) {
    epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  c.gen++;
  c.outArmed = false;
  c.out.clear();
  St prev = St(c.st);
  c.st = C_DEAD;
  if (prev != C_DEAD) onClosed(c, code);
}

void sendRaw(Conn& c, const char* p, size_t n) {
  if (c.fd < 0) return;
  if (!c.out.empty()) {
    c.out.append(p, n);
    return;
  }
  ssize_t w = ::send(c.fd, p, n, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) w = 0;
    else {
      closeConn(c, -errno);
      return;
    }
  }
  if (size_t(w) < n) {
    c.out.append(p + w, n - size_t(w));
    armOut(c, true);
  }
}

void sendFrame(Conn& c, int op, const char* p, size_t n) {
  static std::string buf;
  buf.resize(14 + n);
  char* b = buf.data();
  size_t h = 0;
  b[h++] = char(0x80 | op);
  if (n < 126) b[h++] = char(0x80 | n);
  else if (n < 65536) {
    b[h++] = char(0x80 | 126);
    b[h++] = char(n >> 8);
    b[h++] = char(n);
  } else {
    b[h++] = char(0x80 | 127);
    for (int i = 7; i >= 0; i--) b[h++] = char(u64(n) >> (8 * i));
  }
  u32 key = rnd();
  unsigned char m[4];
  memcpy(m, &key, 4);
  memcpy(b + h, m, 4);
  h += 4;
  for (size_t i = 0; i < n; i++) b[h + i] = char(p[i] ^ m[i & 3]);
  sendRaw(c, b, h + n);
}

void sendText(Conn& c, std::string_view s) { sendFrame(c, 1, s.data(), s.size()); }

sockaddr_in serverAddr() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(O.port));
  if (inet_pton(AF_INET, O.host.c_str(), &a.sin_addr) != 1) die("bad --host %s", O.host.c_str());
  return a;
}

bool startConnect(Conn& c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (O.host.rfind("127.", 0) == 0) {
    // Spread clients over 127.0.0.2, 127.0.0.3, ... so no source address runs out of ports.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    u32 k = c.gidx / u32(std::max(1, O.perSrc));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | (((k / 250) & 0xff) << 8) | (2 + k % 250));
    if (c.kind == K_PUB || c.kind == K_ADMIN) src.sin_addr.s_addr = htonl((127u << 24) | 1);
    bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  }
  if (c.kind == K_MEMBER) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  sockaddr_in a = serverAddr();
  int r = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (r < 0 && errno != EINPROGRESS) {
    ::close(fd);
    return false;
  }
  c.fd = fd;
  c.gen++;
  c.st = C_CONNECTING;
  c.in.clear();
  c.out.clear();
  c.outArmed = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = u64(&c - gConns.data());
  epoll_ctl(gEp, EPOLL_CTL_ADD, fd, &ev);
  return true;
}

// ------------------------------------------------------------------------------------------
// Small parsers

bool ieq(const char* a, const char* b, size_t n) { return strncasecmp(a, b, n) == 0; }

struct HttpResp {
  int status = 0;
  bool close = false;
  const char* hdr = nullptr;
  size_t hdrLen = 0;
  const char* body = nullptr;
  size_t bodyLen = 0;
};

// Returns bytes consumed, 0 when incomplete, SIZE_MAX on garbage.
size_t parseResp(const char* p, size_t n, HttpResp& r) {
  const char* he = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
  if (!he) return n > 65536 ? SIZE_MAX : 0;
  size_t hl = size_t(he - p) + 4;
  if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0) return SIZE_MAX;
  r.status = atoi(p + 9);
  r.hdr = p;
  r.hdrLen = hl;
  long long cl = -1;
  bool chunked = false;
  const char* l = static_cast<const char*>(memchr(p, '\n', hl)) + 1;
  while (l < p + hl - 2) {
    const char* le = static_cast<const char*>(memchr(l, '\n', size_t(p + hl - l)));
    if (!le) break;
    if (ieq(l, "content-length:", 15)) cl = atoll(l + 15);
    else if (ieq(l, "transfer-encoding:", 18) && memmem(l, size_t(le - l), "chunked", 7)) chunked = true;
    else if (ieq(l, "connection:", 11) && memmem(l, size_t(le - l), "close", 5)) r.close = true;
    l = le + 1;
  }
  if (r.status < 200 || r.status == 204 || r.status == 304) cl = 0;
  if (chunked) {
    size_t off = hl;
    for (;;) {
      const char* e = static_cast<const char*>(memmem(p + off, n - off, "\r\n", 2));
      if (!e) return 0;
      size_t sz = strtoul(p + off, nullptr, 16);
      off = size_t(e - p) + 2;
      if (sz == 0) {
        // skip trailers up to the empty line
        for (;;) {
          const char* e2 = static_cast<const char*>(memmem(p + off, n - off, "\r\n", 2));
          if (!e2) return 0;
          bool empty = e2 == p + off;
          off = size_t(e2 - p) + 2;
          if (empty) return off;
        }
      }
      if (off + sz + 2 > n) return 0;
      if (!r.body) {
        r.body = p + off;
        r.bodyLen = sz;
      }
      off += sz + 2;
    }
  }
  if (cl < 0) cl = 0;
  if (hl + size_t(cl) > n) return 0;
  r.body = p + hl;
  r.bodyLen = size_t(cl);
  return hl + size_t(cl);
}

std::string findCookieSid(const HttpResp& r) {
  const char* p = r.hdr;
  const char* e = r.hdr + r.hdrLen;
  while (p < e) {
    const char* le = static_cast<const char*>(memchr(p, '\n', size_t(e - p)));
    if (!le) break;
    if (ieq(p, "set-cookie:", 11)) {
      const char* s = static_cast<const char*>(memmem(p, size_t(le - p), "sid=", 4));
      if (s) {
        s += 4;
        const char* x = s;
        while (x < le && *x != ';' && *x != '\r') x++;
        if (x > s) return std::string(s, x);
      }
    }
    p = le + 1;
  }
  return {};
}

// The string value of "key":"..." (no unescaping), or empty.
std::string_view jsonStr(const char* p, size_t n, std::string_view key) {
  std::string pat = "\"" + std::string(key) + "\":";
  const char* s = static_cast<const char*>(memmem(p, n, pat.data(), pat.size()));
  if (!s) return {};
  s += pat.size();
  const char* e = p + n;
  while (s < e && *s == ' ') s++;
  if (s >= e || *s != '"') return {};
  s++;
  const char* x = static_cast<const char*>(memchr(s, '"', size_t(e - s)));
  if (!x) return {};
  return {s, size_t(x - s)};
}

bool parseNum(const char*& p, const char* e, u64& v) {
  if (p >= e || *p < '0' || *p > '9') return false;
  v = 0;
  while (p < e && *p >= '0' && *p <= '9') v = v * 10 + u64(*p++ - '0');
  return true;
}

// ------------------------------------------------------------------------------------------
// Body marker

size_t writeMarker(char* b, size_t cap, u32 room, u32 slot, u32 seq, u64 ts, u32 step, size_t total) {
  int n = snprintf(b, cap, "~R%u~U%u~S%u~T%llu~K%u~", room, slot, seq, (unsigned long long)ts, step);
  size_t len = size_t(n);
  while (len < total && len < cap) b[len++] = 'x';
  return len;
}

void onDelivery(Conn& c, u64 room, u64 slot, u64 seq, u64 ts, u64 step) {
  if (!gInStep || step != gStep) {
    gS.late++;
    return;
  }
  u64 lat = gNow > ts ? gNow - ts : 0;
  gS.h.add(lat);
  if (!gS.firstDeliveryUs) gS.firstDeliveryUs = gNow;
  gS.lastDeliveryUs = gNow;
  if (int64_t(room) != c.room || slot >= u64(gSlots)) {
    gS.wrongRoom++;
    return;
  }
  Track& t = c.tr[slot];
  u32 s = u32(seq);
  if (s > t.max) {
    u32 d = s - t.max;
    t.win = d >= 64 ? 1 : (t.win << d) | 1;
    t.max = s;
  } else if (s == t.max) {
    gS.dups++;
    return;
  } else {
    u32 d = t.max - s;
    if (d < 64) {
      if (t.win & (u64(1) << d)) {
        gS.dups++;
        return;
      }
      t.win |= u64(1) << d;
    }
    gS.reordered++;
  }
  c.uniqStep++;
  gS.delivered++;
}

void scanMarkers(Conn& c, const char* p, size_t n) {
  const char* e = p + n;
  while (p < e) {
    const char* m = static_cast<const char*>(memmem(p, size_t(e - p), "~R", 2));
    if (!m) return;
    p = m + 2;
    u64 room, slot, seq, ts, step;
    if (!parseNum(p, e, room) || e - p < 2 || memcmp(p, "~U", 2)) continue;
    p += 2;
    if (!parseNum(p, e, slot) || e - p < 2 || memcmp(p, "~S", 2)) continue;
    p += 2;
    if (!parseNum(p, e, seq) || e - p < 2 || memcmp(p, "~T", 2)) continue;
    p += 2;
    if (!parseNum(p, e, ts) || e - p < 2 || memcmp(p, "~K", 2)) continue;
    p += 2;
    if (!parseNum(p, e, step)) continue;
    onDelivery(c, room, slot, seq, ts, step);
  }
}

// ------------------------------------------------------------------------------------------
// Dialects

void markReady(Conn& c) {
  if (c.st == C_READY) return;
  c.st = C_READY;
  if (c.kind == K_MEMBER && !c.counted) {
    c.counted = true;
    c.ok = true;
    gReady++;
    gInFlight--;
    gLastReady = gNow;
  }
}

void sendHttpAccount(Conn& c) {
  char body[256];
  const char* who = c.kind == K_ADMIN ? "a" : "u";
  int bn;
  if (c.phase == P_CREATE)
    bn = snprintf(body, sizeof body,
                  "{\"username\":\"b%s%s%u\",\"email\":\"b%s%s%u@bench.test\",\"password\":\"bench-password-1\"}",
                  O.runId.c_str(), who, c.gidx, O.runId.c_str(), who, c.gidx);
  else
    bn = snprintf(body, sizeof body, "{\"email\":\"b%s%s%u@bench.test\",\"password\":\"bench-password-1\"}",
                  O.runId.c_str(), who, c.gidx);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "POST /api/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                   c.phase == P_CREATE ? "create-account" : "login", gHostHdr.c_str(), bn, body);
  c.st = C_HTTP;
  sendRaw(c, req, size_t(n));
}

void sendUpgrade(Conn& c) {
  std::string path;
  if (O.dialect == D_ROOMCAST) path = "/api/ws";
  else if (O.dialect == D_NCHAN && c.room >= 0) path = O.subPath + gRoomIds[size_t(c.room)];
  else path = "/socket.io/?EIO=4&transport=websocket";
  if (O.dialect == D_NCHAN && c.room < 0) path = O.subPath + gRoomPrefix + "idle";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + gHostHdr +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: cm9vbWNhc3QtYmVuY2gxMg==\r\nSec-WebSocket-Version: 13\r\n";
  if (!c.sid.empty()) req += "Cookie: sid=" + c.sid + "\r\n";
  req += "\r\n";
  c.st = C_UPGRADE;
  sendRaw(c, req.data(), req.size());
}

void onConnected(Conn& c) {
  if (c.kind == K_PUB) {
    c.st = C_READY;
    return;
  }
  if (O.dialect == D_ROOMCAST && c.phase != P_WS) sendHttpAccount(c);
  else sendUpgrade(c);
}

// Master-side hooks (set in master).
std::function<void(Conn&, const char*, size_t)> gOnAdminCreated;
std::function<void(Conn&)> gOnAdminHello;
std::function<void(Conn&, const HttpResp&)> gOnPubResp;
std::function<void(Conn&)> gOnPubClosed;

Ev classifyRoomcast(const char* p, size_t n) {
  size_t lim = std::min<size_t>(n, 64);
  const char* t = static_cast<const char*>(memmem(p, lim, "\"type\":\"", 8));
  if (!t) {
    t = static_cast<const char*>(memmem(p, n, "\"type\":\"", 8));
    if (!t) return E_OTHER;
  }
  t += 8;
  size_t rem = size_t(p + n - t);
  auto is = [&](const char* s) {
    size_t l = strlen(s);
    return rem > l && memcmp(t, s, l) == 0 && t[l] == '"';
  };
  if (is("serverMessages") || is("serverPush")) return E_DATA;
  if (is("hello")) return E_HELLO;
  if (is("serverJoinedRoom")) return E_JOINED;
  if (is("serverCreateRoom")) return E_CREATED;
  if (is("serverError")) return E_ERROR;
  return E_OTHER;
}

void onText(Conn& c, bool first, const char* p, size_t n) {
  if (O.dialect == D_NCHAN) {
    scanMarkers(c, p, n);
    return;
  }
  if (O.dialect == D_SOCKETIO) {
    if (!first) {
      if (c.frag == E_DATA) scanMarkers(c, p, n);
      return;
    }
    c.frag = E_OTHER;
    if (n == 0) return;
    switch (p[0]) {
      case '0': sendText(c, "40"); return;                 // engine.io open -> socket.io connect
      case '2': sendText(c, n > 1 ? std::string_view("3probe") : "3"); return;  // ping -> pong
      case '4':
        if (n >= 2 && p[1] == '0') {  // socket.io connected
          if (c.room >= 0) {
            std::string j = "42[\"join\",\"" + gRoomIds[size_t(c.room)] + "\"]";
            sendText(c, j);
          } else markReady(c);
        } else if (n >= 2 && p[1] == '2') {
          if (n >= 6 && memcmp(p + 2, "[\"m\"", 4) == 0) {
            c.frag = E_DATA;
            scanMarkers(c, p, n);
          } else if (memmem(p, std::min<size_t>(n, 16), "\"joined\"", 8)) markReady(c);
        } else if (n >= 2 && p[1] == '4') {
          gS.errors++;
        }
        return;
      default: return;
    }
  }
  // roomcast
  if (first) c.frag = classifyRoomcast(p, n);
  switch (c.frag) {
    case E_DATA: scanMarkers(c, p, n); return;
    case E_HELLO:
      if (!first) return;
      if (c.kind == K_ADMIN) {
        if (gOnAdminHello) gOnAdminHello(c);
      } else if (c.room >= 0) {
        std::string j = "{\"type\":\"clientJoinRoom\",\"payload\":{\"roomId\":\"" + gRoomIds[size_t(c.room)] + "\"}}";
        sendText(c, j);
      } else markReady(c);
      return;
    case E_JOINED:
      if (first && c.kind == K_MEMBER) markReady(c);
      return;
    case E_CREATED:
      if (first && c.kind == K_ADMIN && gOnAdminCreated) gOnAdminCreated(c, p, n);
      return;
    case E_ERROR:
      if (!first) return;
      gS.errors++;
      if (memmem(p, n, "RATE_LIMITED", 12)) gS.rateLimited++;
      if (c.kind == K_MEMBER && gInStep && memmem(p, n, "\"clientMessages\"", 16)) {
        gS.sendErrors++;
        if (gRoomSent && c.room >= 0 && size_t(c.room) - gRoomLo < gRoomSent->size() &&
            (*gRoomSent)[size_t(c.room) - gRoomLo] > 0)
          (*gRoomSent)[size_t(c.room) - gRoomLo]--;
      }
      if (gS.errors <= 5) fprintf(stderr, "serverError: %.*s\n", int(std::min<size_t>(n, 300)), p);
      return;
    default: return;
  }
}

// Consumes WebSocket frames; returns bytes used. Stops if the connection was closed.
size_t consumeFrames(Conn& c, const char* p, size_t n) {
  size_t off = 0;
  u32 gen = c.gen;
  while (n - off >= 2) {
    unsigned char b0 = static_cast<unsigned char>(p[off]), b1 = static_cast<unsigned char>(p[off + 1]);
    u64 len = b1 & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (n - off < 4) break;
      len = (u64(static_cast<unsigned char>(p[off + 2])) << 8) | static_cast<unsigned char>(p[off + 3]);
      h = 4;
    } else if (len == 127) {
      if (n - off < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | static_cast<unsigned char>(p[off + 2 + i]);
      h = 10;
    }
    if (b1 & 0x80) h += 4;  // servers must not mask; tolerate it
    if (n - off < h + len) break;
    const char* pl = p + off + h;
    int op = b0 & 0x0f;
    switch (op) {
      case 0: onText(c, false, pl, len); break;
      case 1:
      case 2: onText(c, true, pl, len); break;
      case 8: {
        int code = len >= 2 ? (static_cast<unsigned char>(pl[0]) << 8) | static_cast<unsigned char>(pl[1]) : 1005;
        closeConn(c, code);
        return n;
      }
      case 9: sendFrame(c, 10, pl, len); break;
      default: break;
    }
    off += h + len;
    if (c.gen != gen) return n;
  }
  return off;
}

void onHttpResp(Conn& c, const HttpResp& r);

size_t consume(Conn& c, const char* p, size_t n) {
  size_t off = 0;
  u32 gen = c.gen;
  while (off < n && c.gen == gen) {
    if (c.st == C_WS || c.st == C_READY) {
      if (c.kind == K_PUB) {
        HttpResp r;
        size_t u = parseResp(p + off, n - off, r);
        if (u == 0) break;
        if (u == SIZE_MAX) {
          closeConn(c, -EPROTO);
          return n;
        }
        off += u;
        if (gOnPubResp) gOnPubResp(c, r);
        continue;
      }
      off += consumeFrames(c, p + off, n - off);
      break;
    }
    if (c.st == C_HTTP || c.st == C_UPGRADE) {
      HttpResp r;
      size_t u = parseResp(p + off, n - off, r);
      if (u == 0) break;
      if (u == SIZE_MAX) {
        closeConn(c, -EPROTO);
        return n;
      }
      off += u;
      onHttpResp(c, r);
      continue;
    }
    break;
  }
  return c.gen == gen ? off : n;
}

void failConn(Conn& c, const char* why, int status) {
  if (c.kind == K_MEMBER && !c.counted) {
    c.counted = true;
    gFailed++;
    gInFlight--;
    if (gFailed <= 5) fprintf(stderr, "client %u failed: %s (%d)\n", c.gidx, why, status);
  } else if (c.kind != K_MEMBER) {
    fprintf(stderr, "setup connection failed: %s (%d)\n", why, status);
  }
  if (c.fd >= 0) {
    epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  c.gen++;
  c.outArmed = false;
  c.out.clear();
  c.st = C_DEAD;
}

// Account requests the server refused for now (429 rate limit, 503 hashing queue full): the
// connection retries after the response's Retry-After, as PROTOCOL.md asks of load generators.
struct AccountRetry {
  u64 dueUs;
  u32 idx;
};
std::vector<AccountRetry> gRetries;

u64 retryAfterUs(const HttpResp& r) {
  const char* p = r.hdr;
  const char* end = r.hdr + r.hdrLen;
  while (p < end) {
    const char* le = static_cast<const char*>(memchr(p, '\n', size_t(end - p)));
    if (!le) break;
    if (ieq(p, "retry-after:", 12)) return u64(std::max(1, atoi(p + 12))) * 1000000;
    p = le + 1;
  }
  return 1000000;
}

void retryDueAccounts() {
  for (size_t i = 0; i < gRetries.size();) {
    if (gRetries[i].dueUs > gNow) {
      i++;
      continue;
    }
    Conn& c = gConns[gRetries[i].idx];
    gRetries[i] = gRetries.back();
    gRetries.pop_back();
    if (c.st == C_IDLE && !startConnect(c)) failConn(c, "reconnect", errno);
  }
}

void onHttpResp(Conn& c, const HttpResp& r) {
  if (c.st == C_HTTP) {  // account
    if (r.status == 429 || r.status == 503) {
      epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
      c.gen++;
      c.st = C_IDLE;
      gRetries.push_back({gNow + retryAfterUs(r), u32(&c - gConns.data())});
      return;
    }
    if (r.status == 200 || r.status == 204) {
      c.sid = findCookieSid(r);
      if (c.sid.empty()) return failConn(c, "no sid cookie", r.status);
      c.phase = P_WS;
      if (gAccountsOnly && c.kind == K_MEMBER) {
        epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.gen++;
        c.st = C_IDLE;
        gAccounts++;
        gInFlight--;
        gLastReady = gNow;
        return;
      }
      int fd = c.fd;
      epoll_ctl(gEp, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      c.fd = -1;
      if (!startConnect(c)) return failConn(c, "reconnect", errno);
      return;
    }
    if (c.phase == P_CREATE && r.status == 400) {  // exists: log in instead
      c.phase = P_LOGIN;
      int fd = c.fd;
      epoll_ctl(gEp, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      c.fd = -1;
      if (!startConnect(c)) return failConn(c, "reconnect", errno);
      return;
    }
    return failConn(c, "account", r.status);
  }
  if (c.st == C_UPGRADE) {
    if (r.status != 101) return failConn(c, "upgrade", r.status);
    c.st = C_WS;
    if (O.dialect == D_NCHAN) markReady(c);
  }
}

void onClosed(Conn& c, int code) {
  if (c.kind == K_PUB) {
    if (gOnPubClosed) gOnPubClosed(c);
    return;
  }
  if (c.kind == K_MEMBER) {
    if (!c.counted) {
      c.counted = true;
      gFailed++;
      gInFlight--;
      if (gFailed <= 5) fprintf(stderr, "client %u closed before ready (code %d)\n", c.gidx, code);
    } else {
      gClosed++;
      gCloseCodes[code]++;
      if (gInStep) gS.closed++;
      if (gClosed <= 5) fprintf(stderr, "client %u closed (code %d)\n", c.gidx, code);
    }
  }
}

void onEvent(Conn& c, u32 events) {
  if (c.fd < 0) return;
  if (c.st == C_CONNECTING) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &l);
      if (err) {
        int fd = c.fd;
        epoll_ctl(gEp, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        c.fd = -1;
        c.st = C_IDLE;
        if (++c.attempts < 6 && startConnect(c)) return;
        return failConn(c, strerror(err), -err);
      }
      armOut(c, false);
      onConnected(c);
      if (c.fd < 0) return;
    }
    if (!(events & EPOLLIN)) return;
  }
  if (events & EPOLLOUT) {
    while (!c.out.empty()) {
      ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN) break;
        return closeConn(c, -errno);
      }
      c.out.erase(0, size_t(w));
    }
    if (c.out.empty()) armOut(c, false);
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    iovec iov{gRbuf, RBUF};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(timespec)) * 2];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t r = ::recvmsg(c.fd, &mh, 0);
    if (r == 0) return closeConn(c, 1006);
    if (r < 0) {
      if (errno == EAGAIN) return;
      return closeConn(c, -errno);
    }
    gNow = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        int64_t real = int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
        gNow = u64(real - gRealOff);
      }
    if (!gNow) gNow = nowUs();
    size_t n = size_t(r);
    u32 gen = c.gen;
    if (c.in.empty()) {
      size_t used = consume(c, gRbuf, n);
      if (c.gen == gen && used < n) c.in.assign(gRbuf + used, n - used);
    } else {
      c.in.append(gRbuf, n);
      size_t used = consume(c, c.in.data(), c.in.size());
      if (c.gen == gen) c.in.erase(0, used);
    }
  }
}

// Runs one epoll round (timeout ms). ctlFd gets tag CTL_TAG + index.
constexpr u64 CTL_TAG = u64(1) << 40;
std::function<void(int)> gOnCtl;

int pollOnce(int timeoutMs) {
  epoll_event evs[512];
  int n = epoll_wait(gEp, evs, 512, timeoutMs);
  gNow = nowUs();
  for (int i = 0; i < n; i++) {
    u64 d = evs[i].data.u64;
    if (d >= CTL_TAG) {
      if (gOnCtl) gOnCtl(int(d - CTL_TAG));
      continue;
    }
    onEvent(gConns[d], evs[i].events);
  }
  gNow = nowUs();
  if (!gRetries.empty()) retryDueAccounts();
  return n;
}

void addCtl(int fd, int idx) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = CTL_TAG + u64(idx);
  epoll_ctl(gEp, EPOLL_CTL_ADD, fd, &ev);
}

// ------------------------------------------------------------------------------------------
// Message bodies

// Builds the client message frame text for S4 (roomcast clientMessages).
const std::string& buildClientMessage(u32 room, u32 slot, u32 seq, u64 ts) {
  char m[4096];
  size_t ml = writeMarker(m, sizeof m, room, slot, seq, ts, gStep, size_t(O.msgBytes));
  static std::string s;
  s.clear();
  s += "{\"type\":\"clientMessages\",\"payload\":{\"roomId\":\"";
  s += gRoomIds[room];
  s += "\",\"messages\":[{\"content\":\"";
  s.append(m, ml);
  s += "\",\"clientId\":\"";
  char id[32];
  s.append(id, size_t(snprintf(id, sizeof id, "%u-%u", slot, seq)));
  s += "\"}]}}";
  return s;
}

// Appends one publish request to out.
void appendPublish(std::string& out, u32 room, u32 seq, u64 ts) {
  char m[4096];
  size_t ml = writeMarker(m, sizeof m, room, 0, seq, ts, gStep, size_t(O.msgBytes));
  char hdr[512];
  std::string_view body;
  static std::string b;
  b.clear();
  if (O.dialect == D_ROOMCAST) {
    b += "{\"roomId\":\"";
    b += gRoomIds[room];
    b += "\",\"op\":1,\"body\":{\"m\":\"";
    b.append(m, ml);
    b += "\"}}";
    int n = snprintf(hdr, sizeof hdr,
                     "POST /api/push/room HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     gHostHdr.c_str(), O.adminToken.c_str(), b.size());
    out.append(hdr, size_t(n));
  } else {
    b.append(m, ml);
    int n = snprintf(hdr, sizeof hdr,
                     "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                     O.pubPath.c_str(), gRoomIds[room].c_str(), gHostHdr.c_str(), b.size());
    out.append(hdr, size_t(n));
  }
  out += b;
}

// ------------------------------------------------------------------------------------------
// /proc helpers

bool procCpu(int pid, double& secs) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return false;
  char buf[2048];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return false;
  p += 2;
  // fields after ')': 3 state ... 14 utime 15 stime
  unsigned long long ut = 0, st = 0;
  int field = 3;
  char* save = nullptr;
  for (char* t = strtok_r(p, " ", &save); t; t = strtok_r(nullptr, " ", &save), field++) {
    if (field == 14) ut = strtoull(t, nullptr, 10);
    if (field == 15) {
      st = strtoull(t, nullptr, 10);
      break;
    }
  }
  secs = double(ut + st) / double(sysconf(_SC_CLK_TCK));
  return true;
}

long procRssKib(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) {
      v = atol(line + 6);
      break;
    }
  fclose(f);
  return v;
}

// Proportional set size: shared pages (nchan's shared memory zone, mapped by every nginx
// worker) are split between the processes instead of counted once per process.
long procPssKib(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Pss:", 4) == 0) {
      v = atol(line + 4);
      break;
    }
  fclose(f);
  return v;
}

long serverPss() {
  long t = 0;
  for (int pid : O.serverPids) {
    long r = procPssKib(pid);
    if (r > 0) t += r;
  }
  return t;
}

double serverCpu() {
  double t = 0;
  for (int pid : O.serverPids) {
    double s;
    if (procCpu(pid, s)) t += s;
  }
  return t;
}
long serverRss() {
  long t = 0;
  for (int pid : O.serverPids) {
    long r = procRssKib(pid);
    if (r > 0) t += r;
  }
  return t;
}

// Processes holding a listening TCP socket on O.port.
std::vector<int> discoverPids() {
  std::vector<std::string> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    FILE* f = fopen(file, "r");
    if (!f) continue;
    char line[512];
    fgets(line, sizeof line, f);
    while (fgets(line, sizeof line, f)) {
      char local[128], rem[128], st[8];
      unsigned long inode = 0;
      if (sscanf(line, "%*d: %127s %127s %7s %*s %*s %*s %*s %*s %lu", local, rem, st, &inode) != 4) continue;
      if (strcmp(st, "0A") != 0) continue;
      const char* colon = strrchr(local, ':');
      if (!colon || strtol(colon + 1, nullptr, 16) != O.port) continue;
      inodes.push_back("socket:[" + std::to_string(inode) + "]");
    }
    fclose(f);
  }
  std::vector<int> pids;
  if (inodes.empty()) return pids;
  DIR* d = opendir("/proc");
  if (!d) return pids;
  while (dirent* e = readdir(d)) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::string fdd = std::string("/proc/") + e->d_name + "/fd";
    DIR* fdir = opendir(fdd.c_str());
    if (!fdir) continue;
    bool hit = false;
    while (dirent* fe = readdir(fdir)) {
      if (fe->d_name[0] == '.') continue;
      char link[128];
      std::string lp = fdd + "/" + fe->d_name;
      ssize_t l = readlink(lp.c_str(), link, sizeof link - 1);
      if (l <= 0) continue;
      link[l] = 0;
      for (auto& in : inodes)
        if (in == link) hit = true;
      if (hit) break;
    }
    closedir(fdir);
    if (hit) pids.push_back(pid);
  }
  closedir(d);
  return pids;
}

// Timeout (ms) until the next paced send: sleeping until then avoids needless wakeups, which
// cost a lot on virtual machines.
int gPaceTimeoutMs = 10;
int paceTimeout(u64 start, u64 sent, double rate) {
  if (rate <= 0) return 20;
  u64 next = start + u64(double(sent) * 1e6 / rate);
  u64 now = nowUs();
  if (next <= now) return 1;
  return int(std::min<u64>(20, std::max<u64>(1, (next - now + 999) / 1000)));
}

// ------------------------------------------------------------------------------------------
// Worker process

int gCtl = -1;

void ctlSend(int fd, const void* p, size_t n) {
  for (;;) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w >= 0 || errno != EINTR) return;
  }
}

struct Worker {
  u32 lo, hi;
  u32 roomLo = 0, roomHi = 0;
  std::vector<u64> roomSent;  // S4: messages sent per local room this step
  bool quit = false;
  bool readySent = true;
  bool draining = false;
  u64 drainDeadline = 0;
  u64 expectedTotal = 0;
  std::vector<u64> endCounts;  // per room expected (S2/S3) from master
  // S4 pacing
  double rate = 0;
  u64 stepStart = 0, paceSent = 0;
  size_t rr = 0;
  u64 stepEndUs = 0;
  bool sending = false;

  void startMore() {
    while (gConnecting && gInFlight < O.connectConc && gNextStart < gConns.size()) {
      Conn& c = gConns[gNextStart++];
      if (c.st == C_DEAD) continue;  // its account could not be made
      gInFlight++;
      if (!startConnect(c)) failConn(c, "socket/connect", -errno);
    }
    if (gConnecting && !readySent && gNextStart >= gConns.size() && gInFlight <= 0) {
      ReadyRep r{};
      r.h.type = REP_READY;
      r.ready = gAccountsOnly ? gAccounts : gReady;
      r.failed = gFailed;
      r.firstStartUs = gFirstStart;
      r.lastReadyUs = gLastReady;
      r.closed = gClosed;
      ctlSend(gCtl, &r, sizeof r);
      readySent = true;
      gConnecting = false;
    }
  }

  void sendStats() {
    // loss per connection
    gS.expected = 0;
    gS.lost = 0;
    gS.connsWithLoss = 0;
    for (auto& c : gConns) {
      u64 exp = expectedFor(c);
      gS.expected += exp;
      if (c.uniqStep < exp) {
        gS.lost += exp - c.uniqStep;
        gS.connsWithLoss++;
      }
    }
    StatsRep r{};
    r.h.type = REP_STATS;
    r.h.step = gStep;
    r.s = gS;
    ctlSend(gCtl, &r, sizeof r);
    gInStep = false;
    draining = false;
  }

  u64 expectedFor(const Conn& c) const {
    if (c.room < 0 || !c.ok) return 0;
    if (O.scen == S_PIPELINE) return roomSent[size_t(c.room) - roomLo];
    return size_t(c.room) < endCounts.size() ? endCounts[size_t(c.room)] : 0;
  }

  void onCtl() {
    alignas(16) char buf[256 * 1024];
    ssize_t n = recv(gCtl, buf, sizeof buf, 0);
    if (n <= 0) {
      quit = true;
      return;
    }
    CtlHdr h;
    memcpy(&h, buf, sizeof h);
    switch (h.type) {
      case CMD_CONNECT:
        gAccountsOnly = h.a == 1;
        gConnecting = true;
        readySent = false;
        gNextStart = 0;
        gInFlight = 0;
        gFirstStart = nowUs();
        gLastReady = gFirstStart;
        startMore();
        break;
      case CMD_STEP:
        gStep = h.step;
        gS = StepStats{};
        gS.h.clear();
        for (auto& c : gConns) c.uniqStep = 0;
        std::fill(roomSent.begin(), roomSent.end(), 0);
        gInStep = true;
        rate = h.rate * double(hi - lo) / double(O.conns);
        stepStart = nowUs();
        stepEndUs = stepStart + u64(O.stepSecs * 1e6);
        paceSent = 0;
        sending = O.scen == S_PIPELINE && rate > 0;
        break;
      case CMD_END: {
        sending = false;
        endCounts.assign(h.a, 0);
        if (h.a) memcpy(endCounts.data(), buf + sizeof h, h.a * sizeof(u64));
        expectedTotal = 0;
        for (auto& c : gConns) expectedTotal += expectedFor(c);
        draining = true;
        drainDeadline = nowUs() + u64(O.drainSecs * 1e6);
        break;
      }
      case CMD_QUIT: quit = true; break;
      default: break;
    }
  }

  void pace() {
    if (!sending) return;
    u64 now = gNow;
    if (now >= stepEndUs) {
      sending = false;
      return;
    }
    u64 due = u64(double(now - stepStart) * rate / 1e6) + 1;  // message k is due at k/rate
    size_t n = gConns.size();
    while (paceSent < due) {
      u64 ts = stepStart + u64(double(paceSent) * 1e6 / rate);  // scheduled time
      // next ready sender, round robin
      size_t tries = 0;
      while (tries < n && gConns[rr % n].st != C_READY) {
        rr++;
        tries++;
      }
      if (tries >= n) {
        sending = false;
        return;
      }
      Conn& c = gConns[rr % n];
      rr++;
      c.sendSeq++;
      const std::string& msg = buildClientMessage(u32(c.room), c.slot, c.sendSeq, ts);
      sendText(c, msg);
      roomSent[size_t(c.room) - roomLo]++;
      gS.sent++;
      paceSent++;
    }
  }

  void run() {
    gOnCtl = [this](int) { onCtl(); };
    while (!quit) {
      u64 t0 = nowUs();
      int nev = pollOnce(sending ? paceTimeout(stepStart, paceSent, rate) : 20);
      if (O.batchUs > 0 && nev > 0 && !gConnecting) {
        // Let data pile up a little: fewer wakeups and bigger reads. Latency is unaffected
        // because arrival times come from the kernel's receive timestamps.
        u64 now = nowUs();
        if (now < t0 + u64(O.batchUs)) {
          u64 d = t0 + u64(O.batchUs) - now;
          timespec ts{time_t(d / 1000000), long(d % 1000000) * 1000};
          nanosleep(&ts, nullptr);
        }
      }
      if (gConnecting) startMore();
      pace();
      if (draining) {
        if (O.scen == S_PIPELINE) {
          // expected is known only now (errors may still arrive); recompute cheaply
          expectedTotal = 0;
          for (auto& c : gConns) expectedTotal += expectedFor(c);
        }
        if (gS.delivered >= expectedTotal || gNow >= drainDeadline) sendStats();
      }
    }
  }
};

// ------------------------------------------------------------------------------------------
// Master

struct WorkerInfo {
  pid_t pid;
  int fd;
  u32 lo, hi;
  bool ready = false, statsIn = false;
  ReadyRep rr{};
  StatsRep sr{};
};

std::vector<WorkerInfo> gWorkers;

double clientCpu() {
  double t = 0;
  for (auto& w : gWorkers) {
    double s;
    if (procCpu(w.pid, s)) t += s;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  t += double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  return t;
}

void masterOnCtl(int i) {
  auto& w = gWorkers[size_t(i)];
  alignas(16) char buf[sizeof(StatsRep) + 64];
  ssize_t n = recv(w.fd, buf, sizeof buf, 0);
  if (n <= 0) {
    epoll_ctl(gEp, EPOLL_CTL_DEL, w.fd, nullptr);
    fprintf(stderr, "worker %d exited\n", i);
    w.ready = w.statsIn = true;
    return;
  }
  CtlHdr h;
  memcpy(&h, buf, sizeof h);
  if (h.type == REP_READY) {
    memcpy(&w.rr, buf, sizeof w.rr);
    w.ready = true;
  } else if (h.type == REP_STATS) {
    memcpy(&w.sr, buf, sizeof w.sr);
    w.statsIn = true;
  }
}

bool runUntil(const std::function<bool()>& done, double secs, const std::function<void()>& tick = {}) {
  u64 deadline = nowUs() + u64(secs * 1e6);
  while (!done()) {
    if (nowUs() > deadline) return false;
    pollOnce(tick ? gPaceTimeoutMs : 10);
    if (tick) tick();
  }
  return true;
}

void broadcastCtl(const void* p, size_t n) {
  for (auto& w : gWorkers) ctlSend(w.fd, p, n);
}

FILE* gOut = nullptr;

void emit(const std::string& line) {
  printf("%s\n", line.c_str());
  fflush(stdout);
  if (gOut) {
    fprintf(gOut, "%s\n", line.c_str());
    fflush(gOut);
  }
}

std::string jnum(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) snprintf(b, sizeof b, "%.0f", v);
  else snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// 1-minute load average: steps taken while other work competes for the cores are marked.
double loadAvg() {
  double l = -1;
  if (FILE* f = fopen("/proc/loadavg", "r")) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

std::string commonFields() {
  std::string s = "{\"ts\":" + std::to_string(time(nullptr)) + ",\"label\":\"" + O.label + "\",\"run\":\"" + O.runId +
                  "\",\"target\":\"" + O.target + "\",\"dialect\":\"" + dialectName(O.dialect) + "\",\"scenario\":\"" +
                  scenName(O.scen) + "\",\"conns\":" + std::to_string(O.conns) +
                  ",\"rooms\":" + std::to_string(O.scen == S_IDLE ? 0 : O.conns / O.roomSize) +
                  ",\"room_size\":" + std::to_string(O.scen == S_IDLE ? 0 : O.roomSize) +
                  ",\"workers\":" + std::to_string(O.workers) + ",\"server_pids\":" +
                  std::to_string(O.serverPids.size()) + ",\"loadavg\":" + jnum(loadAvg());
  return s;
}

int masterMain() {
  signal(SIGPIPE, SIG_IGN);
  gHostHdr = O.host + ":" + std::to_string(O.port);
  if (O.serverPids.empty()) O.serverPids = discoverPids();
  if (O.serverPids.empty()) fprintf(stderr, "warning: no server process found for port %d (CPU/RSS not measured)\n", O.port);
  if (!O.out.empty()) {
    gOut = fopen(O.out.c_str(), "a");
    if (!gOut) die("cannot open %s", O.out.c_str());
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  u64 perWorker = (u64(O.conns) + u64(O.workers) - 1) / u64(O.workers);
  if (perWorker + 64 > rl.rlim_cur)
    die("too many connections per worker for the open-file limit; raise --workers%s");

  gEp = epoll_create1(EPOLL_CLOEXEC);
  gRbuf = static_cast<char*>(malloc(RBUF));
  int nrooms = O.scen == S_IDLE ? 0 : O.conns / O.roomSize;
  gRoomPrefix = "b" + O.runId + "r";
  gRoomIds.assign(size_t(nrooms), "");
  if (O.dialect != D_ROOMCAST)
    for (int i = 0; i < nrooms; i++) gRoomIds[size_t(i)] = gRoomPrefix + std::to_string(i);

  // ---- roomcast: create the rooms with a few admin users before any member connects
  if (O.dialect == D_ROOMCAST && nrooms > 0) {
    int perAdmin = 40;
    int nadm = (nrooms + perAdmin - 1) / perAdmin;
    nadm = std::min(nadm, 50);
    perAdmin = (nrooms + nadm - 1) / nadm;
    gConns.resize(size_t(nadm));
    int created = 0;
    std::vector<u64> lastBurst(size_t(nadm), 0);
    std::vector<bool> helloSeen(size_t(nadm), false);
    for (int i = 0; i < nadm; i++) {
      Conn& c = gConns[size_t(i)];
      c.kind = K_ADMIN;
      c.gidx = u32(i);
      if (!startConnect(c)) die("connect failed%s");
    }
    gOnAdminHello = [&](Conn& c) { helloSeen[c.gidx] = true; };
    gOnAdminCreated = [&](Conn&, const char* p, size_t n) {
      auto id = jsonStr(p, n, "roomId");
      auto name = jsonStr(p, n, "roomName");
      if (id.empty() || name.size() <= gRoomPrefix.size() || name.substr(0, gRoomPrefix.size()) != gRoomPrefix) return;
      size_t idx = strtoul(std::string(name.substr(gRoomPrefix.size())).c_str(), nullptr, 10);
      if (idx < gRoomIds.size() && gRoomIds[idx].empty()) {
        gRoomIds[idx] = std::string(id);
        created++;
      }
    };
    u64 t0 = nowUs();
    // Each admin creates its share in bursts of at most 40 per second (under the per-connection
    // rate limit); a name still missing 3 s after it was sent is sent again.
    std::vector<u64> sentAt(size_t(nrooms), 0);
    bool ok = runUntil([&] { return created >= nrooms; }, 120, [&] {
      for (int i = 0; i < nadm; i++) {
        Conn& c = gConns[size_t(i)];
        if (!helloSeen[size_t(i)] || c.fd < 0) continue;
        if (gNow - lastBurst[size_t(i)] < 1000000) continue;
        lastBurst[size_t(i)] = gNow;
        int sentNow = 0;
        for (int r = i * perAdmin; r < std::min(nrooms, (i + 1) * perAdmin) && sentNow < 40; r++) {
          if (!gRoomIds[size_t(r)].empty() || (sentAt[size_t(r)] && gNow - sentAt[size_t(r)] < 3000000)) continue;
          sentAt[size_t(r)] = gNow;
          std::string m = "{\"type\":\"clientCreateRoom\",\"payload\":{\"roomName\":\"" + gRoomPrefix +
                          std::to_string(r) + "\"}}";
          sendText(c, m);
          sentNow++;
        }
      }
    });
    if (!ok) die("roomcast room setup timed out (%s)", std::to_string(created).c_str());
    fprintf(stderr, "created %d rooms with %d admin users in %.1f s\n", created, nadm, double(nowUs() - t0) / 1e6);
    for (auto& c : gConns) {
      c.kind = K_MEMBER;  // so close does not count; we are done with them
      if (c.fd >= 0) {
        epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
      }
      c.st = C_DEAD;
    }
    gConns.clear();
    gOnAdminCreated = nullptr;
    gOnAdminHello = nullptr;
  }

  // ---- fork workers (each gets whole rooms when rooms are local to a worker)
  std::vector<u32> bounds;
  {
    u32 unit = (O.scen == S_PIPELINE || O.scen == S_ROOMS) ? u32(O.roomSize) : 1;
    u32 units = u32(O.conns) / unit;
    for (int w = 0; w <= O.workers; w++) bounds.push_back(u32(u64(units) * u64(w) / u64(O.workers)) * unit);
    bounds.back() = u32(O.conns);
  }
  double cpuBeforeConnect = serverCpu();
  long rssBefore = serverRss();
  long pssBefore = serverPss();
  fflush(stdout);
  fflush(stderr);
  for (int w = 0; w < O.workers; w++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair%s");
    int bufsz = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
    pid_t pid = fork();
    if (pid < 0) die("fork%s");
    if (pid == 0) {
      ::close(sv[0]);
      for (auto& wi : gWorkers) ::close(wi.fd);
      if (gOut) {
        fclose(gOut);
        gOut = nullptr;
      }
      ::close(gEp);
      gEp = epoll_create1(EPOLL_CLOEXEC);
      gCtl = sv[1];
      addCtl(gCtl, 0);
      gRng ^= u32(getpid()) * 2654435761u;
      Worker wk;
      wk.lo = bounds[size_t(w)];
      wk.hi = bounds[size_t(w) + 1];
      size_t n = wk.hi - wk.lo;
      gSlots = O.scen == S_PIPELINE ? O.roomSize : 1;
      gConns.resize(n);
      gTracks = static_cast<Track*>(calloc(n * size_t(gSlots), sizeof(Track)));
      for (size_t i = 0; i < n; i++) {
        Conn& c = gConns[i];
        c.gidx = wk.lo + u32(i);
        c.kind = K_MEMBER;
        c.room = O.scen == S_IDLE ? -1 : int32_t(c.gidx / u32(O.roomSize));
        c.slot = uint16_t(O.scen == S_IDLE ? 0 : c.gidx % u32(O.roomSize));
        c.tr = gTracks + i * size_t(gSlots);
        c.phase = O.dialect == D_ROOMCAST ? P_CREATE : P_WS;
      }
      if (O.scen == S_PIPELINE) {
        wk.roomLo = wk.lo / u32(O.roomSize);
        wk.roomHi = wk.hi / u32(O.roomSize);
        wk.roomSent.assign(wk.roomHi - wk.roomLo, 0);
        gRoomSent = &wk.roomSent;
        gRoomLo = wk.roomLo;
      }
      wk.run();
      _exit(0);
    }
    ::close(sv[1]);
    WorkerInfo wi;
    wi.pid = pid;
    wi.fd = sv[0];
    wi.lo = bounds[size_t(w)];
    wi.hi = bounds[size_t(w) + 1];
    gWorkers.push_back(wi);
    addCtl(sv[0], w);
  }
  gOnCtl = masterOnCtl;

  auto allReady0 = [] {
    for (auto& w : gWorkers)
      if (!w.ready) return false;
    return true;
  };
  // ---- roomcast: create the accounts first, so that connecting measures the WebSocket alone
  std::string acctFields;
  if (O.dialect == D_ROOMCAST) {
    CtlHdr ac{};
    ac.type = CMD_CONNECT;
    ac.a = 1;
    double c0 = serverCpu();
    u64 t0 = nowUs();
    broadcastCtl(&ac, sizeof ac);
    runUntil(allReady0, O.connectTimeout);
    u64 n = 0, last = t0;
    for (auto& w : gWorkers) {
      n += w.rr.ready;
      last = std::max(last, w.rr.lastReadyUs);
      w.ready = false;
    }
    double secs = double(last - t0) / 1e6, cpu = serverCpu() - c0;
    fprintf(stderr, "%s %s: %llu accounts in %.2f s\n", O.target.c_str(), scenName(O.scen), (unsigned long long)n, secs);
    acctFields = ",\"accounts\":" + std::to_string(n) + ",\"accounts_s\":" + jnum(secs) +
                 ",\"account_rate\":" + jnum(secs > 0 ? double(n) / secs : 0) +
                 ",\"server_cpu_us_per_account\":" + jnum(n ? cpu * 1e6 / double(n) : 0);
    cpuBeforeConnect = serverCpu();
    long rssAcct = serverRss();
    acctFields += ",\"server_rss_kib_before_accounts\":" + std::to_string(rssBefore) +
                  ",\"rss_kib_per_account\":" + jnum(n ? double(rssAcct - rssBefore) / double(n) : 0);
    rssBefore = rssAcct;  // RSS per connection counts the WebSocket connections alone
    pssBefore = serverPss();
  }
  // ---- connect everyone
  CtlHdr cmd{};
  cmd.type = CMD_CONNECT;
  u64 tConnect = nowUs();
  broadcastCtl(&cmd, sizeof cmd);
  bool allReady = runUntil([] {
    for (auto& w : gWorkers)
      if (!w.ready) return false;
    return true;
  }, O.connectTimeout);
  u64 ready = 0, failed = 0, lastReady = tConnect;
  for (auto& w : gWorkers) {
    ready += w.rr.ready;
    failed += w.rr.failed;
    lastReady = std::max(lastReady, w.rr.lastReadyUs);
  }
  double connectSecs = double(lastReady - tConnect) / 1e6;
  double cpuAfterConnect = serverCpu();
  fprintf(stderr, "%s %s: %llu/%d connected (%llu failed) in %.2f s%s\n", O.target.c_str(), scenName(O.scen),
          (unsigned long long)ready, O.conns, (unsigned long long)failed, connectSecs, allReady ? "" : " (timeout)");
  // idle settle, then memory and idle CPU
  runUntil([] { return false; }, O.idleSecs);
  double cpuIdle0 = serverCpu();
  u64 tIdle0 = nowUs();
  runUntil([] { return false; }, std::min(2.0, O.idleSecs));
  double idleCpuPct = 100.0 * (serverCpu() - cpuIdle0) / (double(nowUs() - tIdle0) / 1e6);
  long rssAfter = serverRss();
  long pssAfter = serverPss();
  {
    std::string s = commonFields();
    s += ",\"step\":\"connect\",\"ready\":" + std::to_string(ready) + ",\"failed\":" + std::to_string(failed) +
         ",\"connect_s\":" + jnum(connectSecs) +
         ",\"connect_rate\":" + jnum(connectSecs > 0 ? double(ready) / connectSecs : 0) +
         ",\"server_cpu_s_connect\":" + jnum(cpuAfterConnect - cpuBeforeConnect) +
         ",\"server_cpu_us_per_connect\":" +
         jnum(ready ? (cpuAfterConnect - cpuBeforeConnect) * 1e6 / double(ready) : 0) +
         ",\"server_rss_kib_before\":" + std::to_string(rssBefore) +
         ",\"server_rss_kib_after\":" + std::to_string(rssAfter) +
         ",\"rss_kib_per_conn\":" + jnum(ready ? double(rssAfter - rssBefore) / double(ready) : 0) +
         ",\"server_pss_kib_before\":" + std::to_string(pssBefore) +
         ",\"server_pss_kib_after\":" + std::to_string(pssAfter) +
         ",\"pss_kib_per_conn\":" + jnum(ready ? double(pssAfter - pssBefore) / double(ready) : 0) +
         ",\"idle_cpu_pct\":" + jnum(idleCpuPct) + acctFields + "}";
    emit(s);
  }

  // ---- publisher connections (S2/S3)
  bool httpPub = O.scen == S_ROOM || O.scen == S_ROOMS;
  int nrooms2 = nrooms;
  std::vector<u32> roomSeq(size_t(nrooms2), 0);
  std::vector<u64> roomOk(size_t(nrooms2), 0);
  u64 pubErrors = 0, published = 0;
  int pubErrShown = 0;
  if (httpPub) {
    int k = std::max(1, std::min(O.pubConns, nrooms2));
    gConns.resize(size_t(k));
    gPubs.resize(size_t(k));
    for (int i = 0; i < k; i++) {
      Conn& c = gConns[size_t(i)];
      c.kind = K_PUB;
      c.pub = i;
      c.gidx = u32(i);
      if (!startConnect(c)) die("publisher connect failed%s");
    }
    gOnPubResp = [&](Conn& c, const HttpResp& r) {
      PubState& ps = gPubs[size_t(c.pub)];
      if (ps.inflight.empty()) return;
      PubReq q = ps.inflight.front();
      ps.inflight.pop_front();
      if (r.status >= 200 && r.status < 300) roomOk[q.room]++;
      else {
        pubErrors++;
        if (pubErrShown++ < 5)
          fprintf(stderr, "publish failed: HTTP %d %.*s\n", r.status, int(std::min<size_t>(r.bodyLen, 200)),
                  r.body ? r.body : "");
      }
    };
    gOnPubClosed = [&](Conn& c) {
      PubState& ps = gPubs[size_t(c.pub)];
      // unanswered requests go back to the front of the backlog, in order
      while (!ps.inflight.empty()) {
        ps.backlog.push_front(ps.inflight.back());
        ps.inflight.pop_back();
      }
      ps.reconnects++;
      c.st = C_IDLE;
    };
    runUntil([&] {
      for (auto& c : gConns)
        if (c.st != C_READY) return false;
      return true;
    }, 10);
  }
  auto flushPub = [&](Conn& c) {
    PubState& ps = gPubs[size_t(c.pub)];
    if (c.st == C_IDLE || c.st == C_DEAD) {
      if (ps.backlog.empty()) return;
      if (!startConnect(c)) return;
    }
    if (c.st != C_READY) return;
    static std::string out;
    out.clear();
    while (!ps.backlog.empty() && int(ps.inflight.size()) < O.pipeline) {
      PubReq q = ps.backlog.front();
      ps.backlog.pop_front();
      appendPublish(out, q.room, q.seq, q.ts);
      ps.inflight.push_back(q);
    }
    if (!out.empty()) sendRaw(c, out.data(), out.size());
  };

  // ---- steps
  u32 step = 0;
  for (double rate : O.rates) {
    step++;
    gStep = step;
    for (auto& w : gWorkers) w.statsIn = false;
    std::fill(roomOk.begin(), roomOk.end(), 0);
    pubErrors = 0;
    published = 0;
    double cpu0 = serverCpu(), ccpu0 = clientCpu();
    u64 stepStart = nowUs();
    CtlHdr sc{};
    sc.type = CMD_STEP;
    sc.step = step;
    sc.rate = rate;
    broadcastCtl(&sc, sizeof sc);
    u64 stepEnd = stepStart + u64(O.stepSecs * 1e6);
    u64 nextRoom = 0;
    u64 backlogMax = 0;
    if (httpPub) {
      // paced publishing; timestamps are the scheduled send times (no coordinated omission)
      runUntil([&] { return nowUs() >= stepEnd; }, O.stepSecs + 1, [&] {
        u64 now = std::min(gNow, stepEnd);
        u64 due = std::min(u64(double(now - stepStart) * rate / 1e6) + 1, u64(O.stepSecs * rate));
        while (published < due) {
          u32 room = u32(nextRoom++ % u64(nrooms2));
          u64 ts = stepStart + u64(double(published) * 1e6 / rate);
          PubReq q{room, ++roomSeq[room], ts};
          gPubs[room % gPubs.size()].backlog.push_back(q);
          published++;
        }
        u64 bl = 0;
        for (auto& c : gConns) {
          flushPub(c);
          bl += gPubs[size_t(c.pub)].backlog.size();
        }
        backlogMax = std::max(backlogMax, bl);
        gPaceTimeoutMs = paceTimeout(stepStart, published, rate);
      });
      gPaceTimeoutMs = 2;
      // wait for every publish to be answered (bounded)
      runUntil([&] {
        for (auto& p : gPubs)
          if (!p.backlog.empty() || !p.inflight.empty()) return false;
        return true;
      }, O.drainSecs + 10, [&] {
        for (auto& c : gConns) flushPub(c);
      });
    } else {
      runUntil([&] { return nowUs() >= stepEnd; }, O.stepSecs + 1);
    }
    u64 pubDone = nowUs();
    // tell workers what to expect, then let them drain
    std::string endMsg(sizeof(CtlHdr) + roomOk.size() * sizeof(u64), '\0');
    CtlHdr ec{};
    ec.type = CMD_END;
    ec.step = step;
    ec.a = httpPub ? roomOk.size() : 0;
    memcpy(endMsg.data(), &ec, sizeof ec);
    if (httpPub && !roomOk.empty()) memcpy(endMsg.data() + sizeof ec, roomOk.data(), roomOk.size() * sizeof(u64));
    if (endMsg.size() > 200000) die("too many rooms for one control message%s");
    broadcastCtl(endMsg.data(), endMsg.size());
    runUntil([] {
      for (auto& w : gWorkers)
        if (!w.statsIn) return false;
      return true;
    }, O.drainSecs + 30);
    double cpu1 = serverCpu(), ccpu1 = clientCpu();
    StepStats t{};
    t.h.clear();
    for (auto& w : gWorkers) {
      const StepStats& s = w.sr.s;
      t.delivered += s.delivered;
      t.dups += s.dups;
      t.reordered += s.reordered;
      t.late += s.late;
      t.wrongRoom += s.wrongRoom;
      t.expected += s.expected;
      t.lost += s.lost;
      t.connsWithLoss += s.connsWithLoss;
      t.closed += s.closed;
      t.errors += s.errors;
      t.sent += s.sent;
      t.sendErrors += s.sendErrors;
      t.rateLimited += s.rateLimited;
      if (s.lastDeliveryUs > t.lastDeliveryUs) t.lastDeliveryUs = s.lastDeliveryUs;
      t.h.merge(s.h);
    }
    u64 endT = std::max(t.lastDeliveryUs, std::min(pubDone, stepEnd));
    double span = double(endT - stepStart) / 1e6;
    double cpu = cpu1 - cpu0;
    u64 pubCount = httpPub ? published : t.sent;
    u64 okCount = 0;
    for (auto v : roomOk) okCount += v;
    if (!httpPub) okCount = t.sent - t.sendErrors;
    std::string s = commonFields();
    s += ",\"step\":\"rate\",\"rate\":" + jnum(rate) + ",\"step_s\":" + jnum(O.stepSecs) +
         ",\"published\":" + std::to_string(pubCount) + ",\"accepted\":" + std::to_string(okCount) +
         ",\"pub_errors\":" + std::to_string(httpPub ? pubErrors : t.sendErrors) +
         ",\"pub_backlog_max\":" + std::to_string(backlogMax) + ",\"expected\":" + std::to_string(t.expected) +
         ",\"delivered\":" + std::to_string(t.delivered) +
         ",\"deliveries_per_s\":" + jnum(span > 0 ? double(t.delivered) / span : 0) +
         ",\"server_cpu_s\":" + jnum(cpu) +
         ",\"server_cpu_pct\":" + jnum(100.0 * cpu / (double(nowUs() - stepStart) / 1e6)) +
         ",\"cpu_us_per_delivery\":" + jnum(t.delivered ? cpu * 1e6 / double(t.delivered) : 0) +
         ",\"client_cpu_s\":" + jnum(ccpu1 - ccpu0) +
         ",\"client_cpu_us_per_delivery\":" + jnum(t.delivered ? (ccpu1 - ccpu0) * 1e6 / double(t.delivered) : 0) +
         ",\"p50_ms\":" + jnum(double(t.h.pct(0.5)) / 1e3) + ",\"p90_ms\":" + jnum(double(t.h.pct(0.9)) / 1e3) +
         ",\"p99_ms\":" + jnum(double(t.h.pct(0.99)) / 1e3) + ",\"p999_ms\":" + jnum(double(t.h.pct(0.999)) / 1e3) +
         ",\"max_ms\":" + jnum(double(t.h.max) / 1e3) + ",\"lost\":" + std::to_string(t.lost) +
         ",\"dup\":" + std::to_string(t.dups) + ",\"reordered\":" + std::to_string(t.reordered) +
         ",\"late\":" + std::to_string(t.late) + ",\"misrouted\":" + std::to_string(t.wrongRoom) +
         ",\"conns_with_loss\":" + std::to_string(t.connsWithLoss) + ",\"closed\":" + std::to_string(t.closed) +
         ",\"server_errors\":" + std::to_string(t.errors) + ",\"rate_limited\":" + std::to_string(t.rateLimited) +
         ",\"server_rss_kib\":" + std::to_string(serverRss()) + "}";
    emit(s);
    double p99 = double(t.h.pct(0.99)) / 1e3;
    bool lossy = t.lost > 0 || t.closed > 0;
    if ((O.stopOnLoss && lossy) || p99 > O.stopP99Ms || t.delivered == 0) {
      fprintf(stderr, "%s %s: stopping after rate %g (lost %llu, closed %llu, p99 %.1f ms)\n", O.target.c_str(),
              scenName(O.scen), rate, (unsigned long long)t.lost, (unsigned long long)t.closed, p99);
      break;
    }
  }

  CtlHdr q{};
  q.type = CMD_QUIT;
  broadcastCtl(&q, sizeof q);
  for (auto& w : gWorkers) {
    int st;
    for (int i = 0; i < 300; i++) {
      if (waitpid(w.pid, &st, WNOHANG) == w.pid) break;
      usleep(10000);
      if (i == 299) {
        kill(w.pid, SIGKILL);
        waitpid(w.pid, &st, 0);
      }
    }
  }
  if (gOut) fclose(gOut);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  parseArgs(argc, argv);
  {
    timespec r, m;
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m);
    gRealOff = (int64_t(r.tv_sec) - int64_t(m.tv_sec)) * 1000000 + (r.tv_nsec - m.tv_nsec) / 1000;
  }
  return masterMain();
}
