// A worker process: holds a share of the WebSocket clients and reports to the master.

#include "bench.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace bench {

namespace {
int gCtl = -1;  // this worker's control socket to the master
}  // namespace

void ctlSend(int fd, const void* p, size_t n) {
  for (;;) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w >= 0 || errno != EINTR) return;
  }
}

namespace {

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
      memcpy(r.readyByPort, gReadyByPort, sizeof r.readyByPort);
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
      case CMD_QUIT:
        quit = true;
        break;
      default:
        break;
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

}  // namespace

[[noreturn]] void workerMain(int ctlFd, u32 lo, u32 hi) {
  ::close(gEp);
  gEp = epoll_create1(EPOLL_CLOEXEC);
  gCtl = ctlFd;
  addCtl(gCtl, 0);
  gRng ^= u32(getpid()) * 2654435761u;
  Worker wk;
  wk.lo = lo;
  wk.hi = hi;
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

}  // namespace bench
