// The JSON lines the master writes: one for connecting, one per rate step (bench/README.md).

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "master.h"

namespace bench {

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
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15)
    snprintf(b, sizeof b, "%.0f", v);
  else
    snprintf(b, sizeof b, "%.4g", v);
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
  std::string s =
      "{\"ts\":" + std::to_string(time(nullptr)) + ",\"label\":\"" + O.label + "\",\"run\":\"" +
      O.runId + "\",\"target\":\"" + O.target + "\",\"dialect\":\"" + dialectName(O.dialect) +
      "\",\"scenario\":\"" + scenName(O.scen) + "\",\"conns\":" + std::to_string(O.conns) +
      ",\"rooms\":" + std::to_string(O.scen == S_IDLE ? 0 : O.conns / O.roomSize) +
      ",\"room_size\":" + std::to_string(O.scen == S_IDLE ? 0 : O.roomSize) +
      ",\"workers\":" + std::to_string(O.workers) +
      ",\"server_pids\":" + std::to_string(O.serverPids.size()) + ",\"loadavg\":" + jnum(loadAvg());
  return s;
}

namespace {

// Per server process: [[pid, VmRSS KiB before, after], ...]; with --ports, the members ready on
// each port: [[port, ready], ...]. scale.sh turns these into RSS per connection per comet.
std::string perProcessFields(const ConnectResult& r, const Baseline& b,
                             const std::vector<long>& rssAfterEach) {
  std::string s = ",\"server_rss_kib_each\":[";
  for (size_t i = 0; i < O.serverPids.size(); i++) {
    long before = i < b.rssBeforeEach.size() ? b.rssBeforeEach[i] : -1;
    long after = i < rssAfterEach.size() ? rssAfterEach[i] : -1;
    s += (i ? ",[" : "[") + std::to_string(O.serverPids[i]) + "," + std::to_string(before) + "," +
         std::to_string(after) + "]";
  }
  s += "]";
  if (O.wsPorts.empty()) return s;
  s += ",\"ready_by_port\":[";
  for (size_t i = 0; i < O.wsPorts.size(); i++)
    s += (i ? ",[" : "[") + std::to_string(O.wsPorts[i]) + "," + std::to_string(r.readyByPort[i]) +
         "]";
  return s + "]";
}

}  // namespace

void emitConnectLine(const ConnectResult& r, const Baseline& b, double idleCpuPct, long rssAfter,
                     long pssAfter, const std::vector<long>& rssAfterEach) {
  u64 ready = r.ready;
  double cpu = r.cpuAfterConnect - b.cpuBeforeConnect;
  std::string s = commonFields();
  s += ",\"step\":\"connect\",\"ready\":" + std::to_string(ready) +
       ",\"failed\":" + std::to_string(r.failed) + ",\"connect_s\":" + jnum(r.connectSecs) +
       ",\"connect_rate\":" + jnum(r.connectSecs > 0 ? double(ready) / r.connectSecs : 0) +
       ",\"server_cpu_s_connect\":" + jnum(cpu) +
       ",\"server_cpu_us_per_connect\":" + jnum(ready ? cpu * 1e6 / double(ready) : 0) +
       ",\"server_rss_kib_before\":" + std::to_string(b.rssBefore) +
       ",\"server_rss_kib_after\":" + std::to_string(rssAfter) +
       ",\"rss_kib_per_conn\":" + jnum(ready ? double(rssAfter - b.rssBefore) / double(ready) : 0) +
       ",\"server_pss_kib_before\":" + std::to_string(b.pssBefore) +
       ",\"server_pss_kib_after\":" + std::to_string(pssAfter) +
       ",\"pss_kib_per_conn\":" + jnum(ready ? double(pssAfter - b.pssBefore) / double(ready) : 0) +
       ",\"idle_cpu_pct\":" + jnum(idleCpuPct) + b.acctFields +
       perProcessFields(r, b, rssAfterEach) + "}";
  emit(s);
}

void emitStepLine(double rate, const Publishing& pub, const StepTimes& st, const StepStats& t,
                  double cpu, double ccpu) {
  u64 endT = std::max(t.lastDeliveryUs, std::min(st.pubDone, st.end));
  double span = double(endT - st.start) / 1e6;
  u64 pubCount = pub.http ? pub.published : t.sent;
  u64 okCount = 0;
  for (auto v : pub.roomOk) okCount += v;
  if (!pub.http) okCount = t.sent - t.sendErrors;
  std::string s = commonFields();
  s += ",\"step\":\"rate\",\"rate\":" + jnum(rate) + ",\"step_s\":" + jnum(O.stepSecs) +
       ",\"published\":" + std::to_string(pubCount) + ",\"accepted\":" + std::to_string(okCount) +
       ",\"pub_errors\":" + std::to_string(pub.http ? pub.errors : t.sendErrors) +
       ",\"pub_backlog_max\":" + std::to_string(pub.backlogMax) +
       ",\"pub_send_late_p99_ms\":" + jnum(double(pub.sendLate.pct(0.99)) / 1e3) +
       ",\"pub_answer_p50_ms\":" + jnum(double(pub.answer.pct(0.5)) / 1e3) +
       ",\"pub_answer_p99_ms\":" + jnum(double(pub.answer.pct(0.99)) / 1e3) +
       ",\"expected\":" + std::to_string(t.expected) +
       ",\"delivered\":" + std::to_string(t.delivered) +
       ",\"deliveries_per_s\":" + jnum(span > 0 ? double(t.delivered) / span : 0) +
       ",\"server_cpu_s\":" + jnum(cpu) +
       ",\"server_cpu_pct\":" + jnum(100.0 * cpu / (double(nowUs() - st.start) / 1e6)) +
       ",\"cpu_us_per_delivery\":" + jnum(t.delivered ? cpu * 1e6 / double(t.delivered) : 0) +
       ",\"client_cpu_s\":" + jnum(ccpu) + ",\"client_cpu_us_per_delivery\":" +
       jnum(t.delivered ? ccpu * 1e6 / double(t.delivered) : 0) +
       ",\"p50_ms\":" + jnum(double(t.h.pct(0.5)) / 1e3) +
       ",\"p90_ms\":" + jnum(double(t.h.pct(0.9)) / 1e3) +
       ",\"p99_ms\":" + jnum(double(t.h.pct(0.99)) / 1e3) +
       ",\"p999_ms\":" + jnum(double(t.h.pct(0.999)) / 1e3) +
       ",\"max_ms\":" + jnum(double(t.h.max) / 1e3) + ",\"lost\":" + std::to_string(t.lost) +
       ",\"dup\":" + std::to_string(t.dups) + ",\"reordered\":" + std::to_string(t.reordered) +
       ",\"late\":" + std::to_string(t.late) + ",\"misrouted\":" + std::to_string(t.wrongRoom) +
       ",\"conns_with_loss\":" + std::to_string(t.connsWithLoss) +
       ",\"closed\":" + std::to_string(t.closed) +
       ",\"server_errors\":" + std::to_string(t.errors) +
       ",\"rate_limited\":" + std::to_string(t.rateLimited) +
       ",\"server_rss_kib\":" + std::to_string(serverRss()) + "}";
  emit(s);
}

}  // namespace bench
