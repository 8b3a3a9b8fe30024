// The master process: sets up rooms and accounts, forks the workers, connects the clients and
// runs the rate steps (publishing in master_steps.cc, JSON lines in report.cc).

#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "master.h"

namespace bench {

std::vector<WorkerInfo> gWorkers;

double clientCpu() {
  double t = 0;
  for (auto& w : gWorkers) {
    double s;
    if (procCpu(w.pid, s)) t += s;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  t += double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
       double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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

bool runUntil(const std::function<bool()>& done, double secs, const std::function<void()>& tick) {
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

bool allWorkersReady() {
  for (auto& w : gWorkers)
    if (!w.ready) return false;
  return true;
}

namespace {

// Output file, open-file limit, epoll and the room names, before anything connects.
void setupMaster(int nrooms) {
  signal(SIGPIPE, SIG_IGN);
  gHostHdr = O.host + ":" + std::to_string(O.port);
  if (O.serverPids.empty()) O.serverPids = discoverPids();
  if (O.serverPids.empty())
    fprintf(stderr, "warning: no server process found for port %d (CPU/RSS not measured)\n",
            O.port);
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
  gRoomPrefix = "b" + O.runId + "r";
  gRoomIds.assign(size_t(nrooms), "");
  if (O.dialect != D_ROOMCAST)
    for (int i = 0; i < nrooms; i++) gRoomIds[size_t(i)] = gRoomPrefix + std::to_string(i);
}

// roomcast room creation by a few admin users.
struct RoomSetup {
  int nrooms = 0, nadm = 0, perAdmin = 40, created = 0;
  std::vector<u64> lastBurst, sentAt;
  std::vector<bool> helloSeen;
};

void startAdmins(RoomSetup& rs) {
  rs.nadm = (rs.nrooms + rs.perAdmin - 1) / rs.perAdmin;
  rs.nadm = std::min(rs.nadm, 50);
  rs.perAdmin = (rs.nrooms + rs.nadm - 1) / rs.nadm;
  gConns.resize(size_t(rs.nadm));
  rs.lastBurst.assign(size_t(rs.nadm), 0);
  rs.helloSeen.assign(size_t(rs.nadm), false);
  for (int i = 0; i < rs.nadm; i++) {
    Conn& c = gConns[size_t(i)];
    c.kind = K_ADMIN;
    c.gidx = u32(i);
    if (!startConnect(c)) die("connect failed%s");
  }
  gOnAdminHello = [&rs](Conn& c) { rs.helloSeen[c.gidx] = true; };
  gOnAdminCreated = [&rs](Conn&, const char* p, size_t n) {
    auto id = jsonStr(p, n, "roomId");
    auto name = jsonStr(p, n, "roomName");
    if (id.empty() || name.size() <= gRoomPrefix.size() ||
        name.substr(0, gRoomPrefix.size()) != gRoomPrefix)
      return;
    size_t idx = strtoul(std::string(name.substr(gRoomPrefix.size())).c_str(), nullptr, 10);
    if (idx < gRoomIds.size() && gRoomIds[idx].empty()) {
      gRoomIds[idx] = std::string(id);
      rs.created++;
    }
  };
}

// Each admin creates its share in bursts of at most 40 per second (under the per-connection
// rate limit); a name still missing 3 s after it was sent is sent again.
void sendRoomCreates(RoomSetup& rs) {
  for (int i = 0; i < rs.nadm; i++) {
    Conn& c = gConns[size_t(i)];
    if (!rs.helloSeen[size_t(i)] || c.fd < 0) continue;
    if (gNow - rs.lastBurst[size_t(i)] < 1000000) continue;
    rs.lastBurst[size_t(i)] = gNow;
    int sentNow = 0;
    int end = std::min(rs.nrooms, (i + 1) * rs.perAdmin);
    for (int r = i * rs.perAdmin; r < end && sentNow < 40; r++) {
      u64 sentAt = rs.sentAt[size_t(r)];
      if (!gRoomIds[size_t(r)].empty() || (sentAt && gNow - sentAt < 3000000)) continue;
      rs.sentAt[size_t(r)] = gNow;
      std::string m = "{\"type\":\"clientCreateRoom\",\"payload\":{\"roomName\":\"" + gRoomPrefix +
                      std::to_string(r) + "\"}}";
      sendText(c, m);
      sentNow++;
    }
  }
}

void closeAdmins() {
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

// roomcast: create the rooms with a few admin users before any member connects.
void createRooms(int nrooms) {
  RoomSetup rs;
  rs.nrooms = nrooms;
  startAdmins(rs);
  u64 t0 = nowUs();
  rs.sentAt.assign(size_t(nrooms), 0);
  bool ok = runUntil([&] { return rs.created >= nrooms; }, 120, [&] { sendRoomCreates(rs); });
  if (!ok) die("roomcast room setup timed out (%s)", std::to_string(rs.created).c_str());
  fprintf(stderr, "created %d rooms with %d admin users in %.1f s\n", rs.created, rs.nadm,
          double(nowUs() - t0) / 1e6);
  closeAdmins();
}

// Fork the workers (each gets whole rooms when rooms are local to a worker).
void forkWorkers() {
  std::vector<u32> bounds;
  u32 unit = (O.scen == S_PIPELINE || O.scen == S_ROOMS) ? u32(O.roomSize) : 1;
  u32 units = u32(O.conns) / unit;
  for (int w = 0; w <= O.workers; w++)
    bounds.push_back(u32(u64(units) * u64(w) / u64(O.workers)) * unit);
  bounds.back() = u32(O.conns);
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
      workerMain(sv[1], bounds[size_t(w)], bounds[size_t(w) + 1]);
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
}

// roomcast: create the accounts first, so that connecting measures the WebSocket alone.
void createAccounts(Baseline& b) {
  CtlHdr ac{};
  ac.type = CMD_CONNECT;
  ac.a = 1;
  double c0 = serverCpu();
  u64 t0 = nowUs();
  broadcastCtl(&ac, sizeof ac);
  runUntil(allWorkersReady, O.connectTimeout);
  u64 n = 0, last = t0;
  for (auto& w : gWorkers) {
    n += w.rr.ready;
    last = std::max(last, w.rr.lastReadyUs);
    w.ready = false;
    w.rr = ReadyRep{};  // a worker that does not report the connect phase must not count twice
  }
  double secs = double(last - t0) / 1e6, cpu = serverCpu() - c0;
  fprintf(stderr, "%s %s: %llu accounts in %.2f s\n", O.target.c_str(), scenName(O.scen),
          (unsigned long long)n, secs);
  b.acctFields = ",\"accounts\":" + std::to_string(n) + ",\"accounts_s\":" + jnum(secs) +
                 ",\"account_rate\":" + jnum(secs > 0 ? double(n) / secs : 0) +
                 ",\"server_cpu_us_per_account\":" + jnum(n ? cpu * 1e6 / double(n) : 0);
  b.cpuBeforeConnect = serverCpu();
  long rssAcct = serverRss();
  b.acctFields +=
      ",\"server_rss_kib_before_accounts\":" + std::to_string(b.rssBefore) +
      ",\"rss_kib_per_account\":" + jnum(n ? double(rssAcct - b.rssBefore) / double(n) : 0);
  b.rssBefore = rssAcct;  // RSS per connection counts the WebSocket connections alone
  b.pssBefore = serverPss();
  b.rssBeforeEach = serverRssEach();
}

ConnectResult connectAll() {
  CtlHdr cmd{};
  cmd.type = CMD_CONNECT;
  u64 tConnect = nowUs();
  broadcastCtl(&cmd, sizeof cmd);
  bool allReady = runUntil(allWorkersReady, O.connectTimeout);
  ConnectResult r;
  u64 lastReady = tConnect;
  for (auto& w : gWorkers) {
    r.ready += w.rr.ready;
    r.failed += w.rr.failed;
    for (int p = 0; p < kMaxWsPorts; p++) r.readyByPort[p] += w.rr.readyByPort[p];
    lastReady = std::max(lastReady, w.rr.lastReadyUs);
  }
  r.connectSecs = double(lastReady - tConnect) / 1e6;
  r.cpuAfterConnect = serverCpu();
  fprintf(stderr, "%s %s: %llu/%d connected (%llu failed) in %.2f s%s\n", O.target.c_str(),
          scenName(O.scen), (unsigned long long)r.ready, O.conns, (unsigned long long)r.failed,
          r.connectSecs, allReady ? "" : " (timeout)");
  return r;
}

// Idle settle, then memory and idle CPU; writes the connect line.
void measureIdle(const ConnectResult& r, const Baseline& b) {
  runUntil([] { return false; }, O.idleSecs);
  double cpuIdle0 = serverCpu();
  u64 tIdle0 = nowUs();
  runUntil([] { return false; }, std::min(2.0, O.idleSecs));
  double idleCpuPct = 100.0 * (serverCpu() - cpuIdle0) / (double(nowUs() - tIdle0) / 1e6);
  long rssAfter = serverRss();
  long pssAfter = serverPss();
  emitConnectLine(r, b, idleCpuPct, rssAfter, pssAfter, serverRssEach());
}

}  // namespace

int masterMain() {
  int nrooms = O.scen == S_IDLE ? 0 : O.conns / O.roomSize;
  setupMaster(nrooms);
  if (!O.room.empty())
    gRoomIds[0] = O.room;  // every account is a member already (a default room)
  else if (O.dialect == D_ROOMCAST && nrooms > 0)
    createRooms(nrooms);
  Baseline b;
  b.cpuBeforeConnect = serverCpu();
  b.rssBefore = serverRss();
  b.pssBefore = serverPss();
  b.rssBeforeEach = serverRssEach();
  forkWorkers();
  if (O.dialect == D_ROOMCAST) createAccounts(b);
  ConnectResult r = connectAll();
  measureIdle(r, b);

  Publishing pub;
  pub.http = O.scen == S_ROOM || O.scen == S_ROOMS;
  pub.nrooms = nrooms;
  pub.roomSeq.assign(size_t(nrooms), 0);
  pub.roomOk.assign(size_t(nrooms), 0);
  if (pub.http) startPublishers(pub);
  u32 step = 0;
  for (double rate : O.rates)
    if (!runStep(pub, ++step, rate)) break;
  stopWorkers();
  if (gOut) fclose(gOut);
  return 0;
}

}  // namespace bench
