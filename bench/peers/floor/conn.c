// Per-connection protocol: HTTP/1.1 requests (keep-alive, pipelining) until a WebSocket
// upgrade, then client frames (pings are answered, a close is echoed, the rest is ignored).
// Every function runs on the connection's own thread.

#include "floor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void arm_out(worker* w, conn* c, int on) {
  if (c->want_out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = (uint8_t)on;
}

void conn_close(worker* w, conn* c) {
  if (c->fd < 0) return;
  chan_unsubscribe(w, c);
  epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static int out_append(conn* c, const char* p, size_t n) {
  size_t need = c->out_len + n;
  if (need > FLOOR_MAX_OUT) return -1;
  if (need > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < need) cap *= 2;
    char* o = realloc(c->out, cap);
    if (!o) return -1;
    c->out = o;
    c->out_cap = (uint32_t)cap;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len = (uint32_t)need;
  return 0;
}

// One write() when nothing is queued; what the socket does not take waits for EPOLLOUT.
void conn_send(worker* w, conn* c, const char* p, size_t n) {
  if (c->fd < 0) return;
  if (c->out_len == c->out_off) {
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return conn_close(w, c);
    if (k < 0) k = 0;
    if ((size_t)k == n) return;
    p += k;
    n -= (size_t)k;
    c->out_len = c->out_off = 0;
  }
  if (out_append(c, p, n) < 0) return conn_close(w, c);
  arm_out(w, c, 1);
}

void conn_writable(worker* w, conn* c) {
  while (c->out_off < c->out_len) {
    ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (k <= 0) return conn_close(w, c);
    c->out_off += (uint32_t)k;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = c->out_cap = 0;
  arm_out(w, c, 0);
}

static void reply(worker* w, conn* c, const char* status, const char* body) {
  char buf[256];
  int n = snprintf(buf, sizeof buf,
                   "HTTP/1.1 %s\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n\r\n%s",
                   status, strlen(body), body);
  conn_send(w, c, buf, (size_t)n);
}

// Finds header `name` (with the colon) in [h, e); returns its trimmed value.
static const char* header(const char* h, const char* e, const char* name, size_t* len) {
  size_t nl = strlen(name);
  for (const char* l = h; l < e;) {
    const char* le = memchr(l, '\n', (size_t)(e - l));
    if (!le) le = e;
    if ((size_t)(le - l) > nl && strncasecmp(l, name, nl) == 0) {
      const char* v = l + nl;
      while (v < le && (*v == ' ' || *v == '\t')) v++;
      const char* ve = le;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
      *len = (size_t)(ve - v);
      return v;
    }
    l = le + 1;
  }
  return NULL;
}

static void upgrade(worker* w, conn* c, const char* chan, size_t chan_len, const char* h,
                    const char* e) {
  size_t kl = 0;
  const char* key = header(h, e, "sec-websocket-key:", &kl);
  if (!key || chan_len == 0 || chan_len > 64)
    return reply(w, c, "400 Bad Request", "bad upgrade\n");
  char accept[29], buf[256];
  ws_accept_key(key, kl, accept);
  int n =
      snprintf(buf, sizeof buf,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n\r\n",
               accept);
  conn_send(w, c, buf, (size_t)n);
  if (c->fd < 0) return;
  c->state = CS_WS;
  chan_subscribe(w, c, chan, chan_len);
}

// Handles one complete request at p (n bytes available); returns bytes used, 0 if incomplete.
static size_t http_request(worker* w, conn* c, const char* p, size_t n) {
  const char* end = memmem(p, n, "\r\n\r\n", 4);
  if (!end) return 0;
  const char* hdrs = memchr(p, '\n', (size_t)(end - p));
  hdrs = hdrs ? hdrs + 1 : end;
  size_t cl_len = 0, body_len = 0;
  const char* cl = header(hdrs, end + 2, "content-length:", &cl_len);
  if (cl) body_len = strtoul(cl, NULL, 10);
  size_t used = (size_t)(end + 4 - p) + body_len;
  if (body_len > FLOOR_MAX_IN) {
    reply(w, c, "413 Payload Too Large", "too large\n");
    conn_close(w, c);
    return n;
  }
  if (used > n) return 0;
  const char* body = end + 4;
  if (strncmp(p, "POST /pub/", 10) == 0) {
    const char *ch = p + 10, *ce = ch;
    while (ce < end && *ce != ' ' && *ce != '?') ce++;
    publish(ch, (size_t)(ce - ch), body, body_len);
    reply(w, c, "202 Accepted", "");
  } else if (strncmp(p, "GET /sub/", 9) == 0) {
    const char *ch = p + 9, *ce = ch;
    while (ce < end && *ce != ' ' && *ce != '?') ce++;
    upgrade(w, c, ch, (size_t)(ce - ch), hdrs, end + 2);
  } else if (strncmp(p, "GET /health ", 12) == 0) {
    reply(w, c, "200 OK", "ok\n");
  } else {
    reply(w, c, "404 Not Found", "not found\n");
  }
  return used;
}

// Handles one complete client frame; returns bytes used, 0 if incomplete.
static size_t ws_frame(worker* w, conn* c, const unsigned char* p, size_t n) {
  if (n < 2) return 0;
  int op = p[0] & 0x0f, masked = p[1] & 0x80;
  uint64_t len = p[1] & 0x7f;
  size_t h = 2;
  if (len == 126) {
    if (n < 4) return 0;
    len = (uint64_t)p[2] << 8 | p[3];
    h = 4;
  } else if (len == 127) {
    if (n < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
    h = 10;
  }
  if (!masked || len > FLOOR_MAX_IN) {
    conn_close(w, c);
    return n;
  }
  if (n < h + 4 + len) return 0;
  const unsigned char *mask = p + h, *data = p + h + 4;
  if (op == 0x9 || op == 0x8) {  // ping -> pong; close -> echo the close, then hang up
    unsigned char out[2 + 125];
    size_t pl = len > 125 ? 125 : (size_t)len;
    out[0] = (unsigned char)(0x80 | (op == 0x9 ? 0xA : 0x8));
    out[1] = (unsigned char)pl;
    for (size_t i = 0; i < pl; i++) out[2 + i] = data[i] ^ mask[i % 4];
    conn_send(w, c, (const char*)out, 2 + pl);
    if (op == 0x8) {
      conn_close(w, c);
      return n;
    }
  }
  return h + 4 + (size_t)len;
}

static size_t consume(worker* w, conn* c, const char* p, size_t n) {
  size_t off = 0;
  while (off < n && c->fd >= 0) {
    size_t k = c->state == CS_WS ? ws_frame(w, c, (const unsigned char*)p + off, n - off)
                                 : http_request(w, c, p + off, n - off);
    if (k == 0) break;
    off += k;
  }
  return off;
}

// Reads into the thread's scratch buffer; only an incomplete tail is kept per connection.
void conn_readable(worker* w, conn* c) {
  char* buf = w->scratch;
  size_t cap = FLOOR_MAX_IN * 2;
  for (;;) {
    size_t have = c->in_len;
    if (have) memcpy(buf, c->in, have);
    ssize_t k = recv(c->fd, buf + have, cap - have, 0);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (k <= 0) return conn_close(w, c);
    size_t n = have + (size_t)k;
    size_t used = consume(w, c, buf, n);
    if (c->fd < 0) return;
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
    if (used < n) {
      if (n - used > FLOOR_MAX_IN) return conn_close(w, c);
      c->in = malloc(n - used);
      if (!c->in) return conn_close(w, c);
      memcpy(c->in, buf + used, n - used);
      c->in_len = (uint32_t)(n - used);
    }
    if ((size_t)k < cap - have) return;
  }
}
