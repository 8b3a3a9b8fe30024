// The master process's parts: its workers, the run's phases and the JSON lines it writes.
// Everything here runs on the master's single thread.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench.h"

namespace bench {

struct WorkerInfo {
  pid_t pid;
  int fd;
  u32 lo, hi;
  bool ready = false, statsIn = false;
  ReadyRep rr{};
  StatsRep sr{};
};

extern std::vector<WorkerInfo> gWorkers;
extern FILE* gOut;

// Server measurements taken before the members connect (after the accounts, on roomcast).
struct Baseline {
  double cpuBeforeConnect = 0;
  long rssBefore = 0, pssBefore = 0;
  std::vector<long> rssBeforeEach;  // per --server-pid, in that order
  std::string acctFields;           // roomcast: the account phase's fields of the connect line
};

// The outcome of connecting every member.
struct ConnectResult {
  u64 ready = 0, failed = 0;
  u64 readyByPort[kMaxWsPorts] = {};  // with --ports
  double connectSecs = 0, cpuAfterConnect = 0;
};

// Publishing state over all steps (S2/S3 publish over HTTP; S4 members send themselves).
struct Publishing {
  bool http = false;
  int nrooms = 0;
  std::vector<u32> roomSeq;
  std::vector<u64> roomOk;  // this step's accepted publishes per room
  u64 errors = 0, published = 0, backlogMax = 0;
  int errShown = 0;
  // Per publish: how long after its scheduled time it was written (the publisher waiting for
  // answers) and how long its answer took. Both are part of a delivery's latency.
  Hist sendLate, answer;
};

// One rate step's timing.
struct StepTimes {
  u64 start = 0, end = 0, pubDone = 0;
  double cpu0 = 0, ccpu0 = 0;
};

double clientCpu();
void masterOnCtl(int i);
bool runUntil(const std::function<bool()>& done, double secs,
              const std::function<void()>& tick = {});
void broadcastCtl(const void* p, size_t n);
bool allWorkersReady();

void emit(const std::string& line);
std::string jnum(double v);
std::string commonFields();
void emitConnectLine(const ConnectResult& r, const Baseline& b, double idleCpuPct, long rssAfter,
                     long pssAfter, const std::vector<long>& rssAfterEach);
void emitStepLine(double rate, const Publishing& pub, const StepTimes& t, const StepStats& s,
                  double cpu, double ccpu);

void startPublishers(Publishing& pub);
// Runs one rate step; returns false when the run should stop (loss, closes, p99 over the limit).
bool runStep(Publishing& pub, u32 step, double rate);
void stopWorkers();

}  // namespace bench
