// The floor peer's threads: one worker per core, each with its own SO_REUSEPORT listener,
// epoll set, eventfd and inbox. Connections live on the thread that accepted them.
//
//   roomcast-bench-floor --port P [--listen 127.0.0.1] [--threads N] [--merge 0|1]
//
// --merge 0 ("floor"): one write() per delivery. --merge 1 ("floor+merge"): everything
// pending for a connection goes out in one write() per wake-up.

#include "floor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int g_merge = 0;
int g_nworkers = 0;
worker* g_workers = NULL;
__thread worker* t_self = NULL;

static conn* g_conns;  // indexed by fd
static size_t g_max_fds;

static int listen_on(const char* addr, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    fprintf(stderr, "bad --listen address %s\n", addr);
    exit(2);
  }
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0) {
    perror("listen");
    exit(1);
  }
  return fd;
}

static void accept_all(worker* w) {
  for (;;) {
    int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) perror("accept");
      return;
    }
    if ((size_t)fd >= g_max_fds) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn* c = &g_conns[fd];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

// Marker pointers in epoll data: the listener and the eventfd are told apart from connections.
static char k_listener, k_inbox;

static void* worker_main(void* arg) {
  worker* w = arg;
  t_self = w;
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(w->ep, evs, 256, -1);
    if (n < 0 && errno != EINTR) {
      perror("epoll_wait");
      exit(1);
    }
    for (int i = 0; i < n; i++) {
      void* p = evs[i].data.ptr;
      if (p == &k_listener) {
        accept_all(w);
      } else if (p == &k_inbox) {
        uint64_t v;
        if (read(w->event_fd, &v, sizeof v) < 0 && errno != EAGAIN) perror("eventfd read");
      } else {
        conn* c = p;
        if (c->fd >= 0 && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) conn_writable(w, c);
        if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) conn_readable(w, c);
      }
    }
    drain_inbox(w);  // everything published so far, including by this thread's own requests
  }
  return NULL;
}

static void start_worker(worker* w, int id, const char* addr, int port) {
  w->id = id;
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  w->listen_fd = listen_on(addr, port);
  w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  pthread_mutex_init(&w->box.mu, NULL);
  w->scratch_cap = FLOOR_MAX_IN * 2;
  w->scratch = malloc(w->scratch_cap);
  if (w->ep < 0 || w->event_fd < 0 || !w->scratch) {
    perror("worker setup");
    exit(1);
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &k_listener};
  epoll_ctl(w->ep, EPOLL_CTL_ADD, w->listen_fd, &ev);
  ev.data.ptr = &k_inbox;
  epoll_ctl(w->ep, EPOLL_CTL_ADD, w->event_fd, &ev);
}

static void usage(void) {
  fprintf(stderr,
          "usage: roomcast-bench-floor --port P [--listen ADDR] [--threads N] [--merge 0|1]\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char* addr = "127.0.0.1";
  int port = 0;
  long threads = sysconf(_SC_NPROCESSORS_ONLN);
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--port") == 0)
      port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--listen") == 0)
      addr = argv[++i];
    else if (strcmp(argv[i], "--threads") == 0)
      threads = atol(argv[++i]);
    else if (strcmp(argv[i], "--merge") == 0)
      g_merge = atoi(argv[++i]) != 0;
    else
      usage();
  }
  if (port <= 0 || port > 65535 || threads < 1 || threads > 256) usage();
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  g_max_fds = rl.rlim_cur > (1u << 20) ? (1u << 20) : rl.rlim_cur;
  g_conns = calloc(g_max_fds, sizeof *g_conns);  // untouched pages cost no memory
  g_nworkers = (int)threads;
  g_workers = calloc((size_t)threads, sizeof *g_workers);
  if (!g_conns || !g_workers) return 1;
  for (int i = 0; i < g_nworkers; i++) start_worker(&g_workers[i], i, addr, port);
  fprintf(stderr, "floor: %d threads on %s:%d, merge %d\n", g_nworkers, addr, port, g_merge);
  for (int i = 1; i < g_nworkers; i++)
    pthread_create(&g_workers[i].th, NULL, worker_main, &g_workers[i]);
  worker_main(&g_workers[0]);
  return 0;
}
