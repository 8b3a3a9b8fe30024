// roomcast-bench: a cheap WebSocket load client on raw epoll (see bench.h and bench/README.md).

#include <time.h>

#include <cstdint>

#include "bench.h"

int main(int argc, char** argv) {
  using namespace bench;
  parseArgs(argc, argv);
  {
    timespec r, m;
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m);
    gRealOff = (int64_t(r.tv_sec) - int64_t(m.tv_sec)) * 1000000 + (r.tv_nsec - m.tv_nsec) / 1000;
  }
  return masterMain();
}
