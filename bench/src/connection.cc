// Client connections: non-blocking sockets, WebSocket frames, HTTP responses and the epoll
// loop shared by the master and the workers.

#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

int gEp = -1;
std::vector<Conn> gConns;
std::vector<PubState> gPubs;
Track* gTracks = nullptr;
int gSlots = 1;
char* gRbuf;
u64 gNow = 0;          // monotonic µs; for received data, the kernel's arrival time
int64_t gRealOff = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC in µs, taken once before fork
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
u64 gReadyByPort[kMaxWsPorts] = {};
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

// Closes the socket and forgets what was queued for it; gen++ so stale events are ignored.
void dropSocket(Conn& c) {
  if (c.fd >= 0) {
    epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  c.gen++;
  c.outArmed = false;
  c.out.clear();
}

void closeConn(Conn& c, int code) {
  dropSocket(c);
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
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      w = 0;
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
  if (n < 126)
    b[h++] = char(0x80 | n);
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

void sendText(Conn& c, std::string_view s) {
  sendFrame(c, 1, s.data(), s.size());
}

int portFor(const Conn& c) {
  if (O.wsPorts.empty() || c.kind == K_PUB || c.phase != P_WS) return O.port;
  return O.wsPorts[c.gidx % O.wsPorts.size()];
}

const std::string& hostHeaderFor(const Conn& c) {
  static std::vector<std::string> byPort;  // one per --ports entry
  if (O.wsPorts.empty() || c.kind == K_PUB || c.phase != P_WS) return gHostHdr;
  if (byPort.empty())
    for (int p : O.wsPorts) byPort.push_back(O.host + ":" + std::to_string(p));
  return byPort[c.gidx % O.wsPorts.size()];
}

sockaddr_in serverAddr(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
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
  sockaddr_in a = serverAddr(portFor(c));
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

// Consumes WebSocket frames; returns bytes used. Stops if the connection was closed.
size_t consumeFrames(Conn& c, const char* p, size_t n) {
  size_t off = 0;
  u32 gen = c.gen;
  while (n - off >= 2) {
    unsigned char b0 = static_cast<unsigned char>(p[off]),
                  b1 = static_cast<unsigned char>(p[off + 1]);
    u64 len = b1 & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (n - off < 4) break;
      len = (u64(static_cast<unsigned char>(p[off + 2])) << 8) |
            static_cast<unsigned char>(p[off + 3]);
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
      case 0:
        onText(c, false, pl, len);
        break;
      case 1:
      case 2:
        onText(c, true, pl, len);
        break;
      case 8: {
        int code =
            len >= 2 ? (static_cast<unsigned char>(pl[0]) << 8) | static_cast<unsigned char>(pl[1])
                     : 1005;
        closeConn(c, code);
        return n;
      }
      case 9:
        sendFrame(c, 10, pl, len);
        break;
      default:
        break;
    }
    off += h + len;
    if (c.gen != gen) return n;
  }
  return off;
}

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
  dropSocket(c);
  c.st = C_DEAD;
}

// Account requests the server refused for now (429 rate limit, 503 hashing queue full): the
// connection retries after the response's Retry-After, as docs/protocol.md asks of load generators.
std::vector<AccountRetry> gRetries;
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

}  // namespace bench
