// The master's rate steps: HTTP publishers (S2/S3), paced publishing, collecting the workers'
// step statistics, and stopping the workers at the end.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "master.h"

namespace bench {

namespace {

void onPubResp(Publishing& pub, Conn& c, const HttpResp& r) {
  PubState& ps = gPubs[size_t(c.pub)];
  if (ps.inflight.empty()) return;
  PubReq q = ps.inflight.front();
  ps.inflight.pop_front();
  pub.answer.add(gNow - q.sent);
  if (r.status >= 200 && r.status < 300)
    pub.roomOk[q.room]++;
  else {
    pub.errors++;
    if (pub.errShown++ < 5)
      fprintf(stderr, "publish failed: HTTP %d %.*s\n", r.status,
              int(std::min<size_t>(r.bodyLen, 200)), r.body ? r.body : "");
  }
}

void onPubClosed(Conn& c) {
  PubState& ps = gPubs[size_t(c.pub)];
  // unanswered requests go back to the front of the backlog, in order
  while (!ps.inflight.empty()) {
    ps.backlog.push_front(ps.inflight.back());
    ps.inflight.pop_back();
  }
  ps.reconnects++;
  c.st = C_IDLE;
}

// Sends the publisher's backlog, at most --pipeline requests in flight; reconnects if needed.
void flushPub(Publishing& pub, Conn& c) {
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
    q.sent = gNow;
    pub.sendLate.add(q.sent > q.ts ? q.sent - q.ts : 0);
    appendPublish(out, q.room, q.seq, q.ts);
    ps.inflight.push_back(q);
  }
  if (!out.empty()) sendRaw(c, out.data(), out.size());
}

// Paced publishing; timestamps are the scheduled send times (no coordinated omission). Then
// waits for every publish to be answered (bounded).
void publishStep(Publishing& pub, const StepTimes& st, double rate) {
  u64 nextRoom = 0;
  runUntil([&] { return nowUs() >= st.end; }, O.stepSecs + 1,
           [&] {
             u64 now = std::min(gNow, st.end);
             u64 due =
                 std::min(u64(double(now - st.start) * rate / 1e6) + 1, u64(O.stepSecs * rate));
             while (pub.published < due) {
               u32 room = u32(nextRoom++ % u64(pub.nrooms));
               u64 ts = st.start + u64(double(pub.published) * 1e6 / rate);
               PubReq q{room, ++pub.roomSeq[room], ts};
               gPubs[room % gPubs.size()].backlog.push_back(q);
               pub.published++;
             }
             u64 bl = 0;
             for (auto& c : gConns) {
               flushPub(pub, c);
               bl += gPubs[size_t(c.pub)].backlog.size();
             }
             pub.backlogMax = std::max(pub.backlogMax, bl);
             gPaceTimeoutMs = paceTimeout(st.start, pub.published, rate);
           });
  gPaceTimeoutMs = 2;
  runUntil(
      [&] {
        for (auto& p : gPubs)
          if (!p.backlog.empty() || !p.inflight.empty()) return false;
        return true;
      },
      O.drainSecs + 10,
      [&] {
        for (auto& c : gConns) flushPub(pub, c);
      });
}

// Tells the workers what to expect, then lets them drain and waits for their statistics.
void endStep(const Publishing& pub, u32 step) {
  const std::vector<u64>& roomOk = pub.roomOk;
  std::string endMsg(sizeof(CtlHdr) + roomOk.size() * sizeof(u64), '\0');
  CtlHdr ec{};
  ec.type = CMD_END;
  ec.step = step;
  ec.a = pub.http ? roomOk.size() : 0;
  memcpy(endMsg.data(), &ec, sizeof ec);
  if (pub.http && !roomOk.empty())
    memcpy(endMsg.data() + sizeof ec, roomOk.data(), roomOk.size() * sizeof(u64));
  if (endMsg.size() > 200000) die("too many rooms for one control message%s");
  broadcastCtl(endMsg.data(), endMsg.size());
  runUntil(
      [] {
        for (auto& w : gWorkers)
          if (!w.statsIn) return false;
        return true;
      },
      O.drainSecs + 30);
}

StepStats sumWorkerStats() {
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
  return t;
}

}  // namespace

void startPublishers(Publishing& pub) {
  int k = std::max(1, std::min(O.pubConns, pub.nrooms));
  gConns.resize(size_t(k));
  gPubs.resize(size_t(k));
  for (int i = 0; i < k; i++) {
    Conn& c = gConns[size_t(i)];
    c.kind = K_PUB;
    c.pub = i;
    c.gidx = u32(i);
    if (!startConnect(c)) die("publisher connect failed%s");
  }
  gOnPubResp = [&pub](Conn& c, const HttpResp& r) { onPubResp(pub, c, r); };
  gOnPubClosed = onPubClosed;
  runUntil(
      [&] {
        for (auto& c : gConns)
          if (c.st != C_READY) return false;
        return true;
      },
      10);
}

bool runStep(Publishing& pub, u32 step, double rate) {
  gStep = step;
  for (auto& w : gWorkers) w.statsIn = false;
  std::fill(pub.roomOk.begin(), pub.roomOk.end(), 0);
  pub.errors = 0;
  pub.published = 0;
  pub.backlogMax = 0;
  pub.sendLate.clear();
  pub.answer.clear();
  StepTimes st;
  st.cpu0 = serverCpu();
  st.ccpu0 = clientCpu();
  st.start = nowUs();
  CtlHdr sc{};
  sc.type = CMD_STEP;
  sc.step = step;
  sc.rate = rate;
  broadcastCtl(&sc, sizeof sc);
  st.end = st.start + u64(O.stepSecs * 1e6);
  if (pub.http)
    publishStep(pub, st, rate);
  else
    runUntil([&] { return nowUs() >= st.end; }, O.stepSecs + 1);
  st.pubDone = nowUs();
  endStep(pub, step);
  double cpu1 = serverCpu(), ccpu1 = clientCpu();
  StepStats t = sumWorkerStats();
  emitStepLine(rate, pub, st, t, cpu1 - st.cpu0, ccpu1 - st.ccpu0);
  double p99 = double(t.h.pct(0.99)) / 1e3;
  bool lossy = t.lost > 0 || t.closed > 0;
  if ((O.stopOnLoss && lossy) || p99 > O.stopP99Ms || t.delivered == 0) {
    fprintf(stderr, "%s %s: stopping after rate %g (lost %llu, closed %llu, p99 %.1f ms)\n",
            O.target.c_str(), scenName(O.scen), rate, (unsigned long long)t.lost,
            (unsigned long long)t.closed, p99);
    return false;
  }
  return true;
}

void stopWorkers() {
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
}

}  // namespace bench
