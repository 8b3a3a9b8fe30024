// Server CPU, RSS and PSS from /proc, and the server processes found by their listening port.

#include "bench.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

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

// The first "<field> <n> kB" line of /proc/<pid>/<file>, or -1.
long procKib(int pid, const char* file, const char* field) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t len = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, len) == 0) {
      v = atol(line + len);
      break;
    }
  fclose(f);
  return v;
}

long procRssKib(int pid) {
  return procKib(pid, "status", "VmRSS:");
}

// Proportional set size: shared pages (nchan's shared memory zone, mapped by every nginx
// worker) are split between the processes instead of counted once per process.
long procPssKib(int pid) {
  return procKib(pid, "smaps_rollup", "Pss:");
}

// The sum over the server processes of what `read` finds (those it cannot read count 0).
long sumOverServers(long (*read)(int pid)) {
  long t = 0;
  for (int pid : O.serverPids) {
    long r = read(pid);
    if (r > 0) t += r;
  }
  return t;
}

long serverPss() {
  return sumOverServers(procPssKib);
}

long serverRss() {
  return sumOverServers(procRssKib);
}

double serverCpu() {
  double t = 0;
  for (int pid : O.serverPids) {
    double s;
    if (procCpu(pid, s)) t += s;
  }
  return t;
}

std::vector<long> serverRssEach() {
  std::vector<long> v;
  for (int pid : O.serverPids) v.push_back(procRssKib(pid));
  return v;
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
      if (sscanf(line, "%*d: %127s %127s %7s %*s %*s %*s %*s %*s %lu", local, rem, st, &inode) != 4)
        continue;
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

}  // namespace bench
