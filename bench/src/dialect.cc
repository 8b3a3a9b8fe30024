// What each server dialect (roomcast, nchan, Socket.IO) says and expects: account requests,
// the upgrade, joining a room, and the events that follow.

#include "bench.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace bench {

// ------------------------------------------------------------------------------------------
// Dialects

void markReady(Conn& c) {
  if (c.st == C_READY) return;
  c.st = C_READY;
  if (c.kind == K_MEMBER && !c.counted) {
    c.counted = true;
    c.ok = true;
    gReady++;
    if (!O.wsPorts.empty()) gReadyByPort[c.gidx % O.wsPorts.size()]++;
    gInFlight--;
    gLastReady = gNow;
  }
}

void sendHttpAccount(Conn& c) {
  char body[256];
  const char* who = c.kind == K_ADMIN ? "a" : "u";
  int bn;
  if (c.phase == P_CREATE)
    bn = snprintf(body, sizeof body,
                  "{\"username\":\"b%s%s%u\",\"email\":\"b%s%s%u@bench.test\",\"password\":\"bench-"
                  "password-1\"}",
                  O.runId.c_str(), who, c.gidx, O.runId.c_str(), who, c.gidx);
  else
    bn = snprintf(body, sizeof body,
                  "{\"email\":\"b%s%s%u@bench.test\",\"password\":\"bench-password-1\"}",
                  O.runId.c_str(), who, c.gidx);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "POST /api/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                   c.phase == P_CREATE ? "create-account" : "login", gHostHdr.c_str(), bn, body);
  c.st = C_HTTP;
  sendRaw(c, req, size_t(n));
}

void sendUpgrade(Conn& c) {
  std::string path;
  if (O.dialect == D_ROOMCAST)
    path = "/api/ws";
  else if (O.dialect == D_NCHAN && c.room >= 0)
    path = O.subPath + gRoomIds[size_t(c.room)];
  else
    path = "/socket.io/?EIO=4&transport=websocket";
  if (O.dialect == D_NCHAN && c.room < 0) path = O.subPath + gRoomPrefix + "idle";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + hostHeaderFor(c) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: cm9vbWNhc3QtYmVuY2gxMg==\r\nSec-WebSocket-Version: 13\r\n";
  if (!c.sid.empty()) req += "Cookie: sid=" + c.sid + "\r\n";
  req += "\r\n";
  c.st = C_UPGRADE;
  sendRaw(c, req.data(), req.size());
}

void onConnected(Conn& c) {
  if (c.kind == K_PUB) {
    c.st = C_READY;
    return;
  }
  if (O.dialect == D_ROOMCAST && c.phase != P_WS)
    sendHttpAccount(c);
  else
    sendUpgrade(c);
}

// Master-side hooks (set in master).
std::function<void(Conn&, const char*, size_t)> gOnAdminCreated;
std::function<void(Conn&)> gOnAdminHello;
std::function<void(Conn&, const HttpResp&)> gOnPubResp;
std::function<void(Conn&)> gOnPubClosed;

Ev classifyRoomcast(const char* p, size_t n) {
  size_t lim = std::min<size_t>(n, 64);
  const char* t = static_cast<const char*>(memmem(p, lim, "\"type\":\"", 8));
  if (!t) {
    t = static_cast<const char*>(memmem(p, n, "\"type\":\"", 8));
    if (!t) return E_OTHER;
  }
  t += 8;
  size_t rem = size_t(p + n - t);
  auto is = [&](const char* s) {
    size_t l = strlen(s);
    return rem > l && memcmp(t, s, l) == 0 && t[l] == '"';
  };
  if (is("serverMessages") || is("serverPush")) return E_DATA;
  if (is("hello")) return E_HELLO;
  if (is("serverJoinedRoom")) return E_JOINED;
  if (is("serverCreateRoom")) return E_CREATED;
  if (is("serverError")) return E_ERROR;
  return E_OTHER;
}

namespace {

// Engine.IO / Socket.IO packets: open, ping, connected, events and errors.
void onSocketIoText(Conn& c, bool first, const char* p, size_t n) {
  if (!first) {
    if (c.frag == E_DATA) scanMarkers(c, p, n);
    return;
  }
  c.frag = E_OTHER;
  if (n == 0) return;
  switch (p[0]) {
    case '0':  // engine.io open -> socket.io connect
      sendText(c, "40");
      return;
    case '2':  // ping -> pong
      sendText(c, n > 1 ? std::string_view("3probe") : "3");
      return;
    case '4':
      if (n >= 2 && p[1] == '0') {  // socket.io connected
        if (c.room >= 0) {
          std::string j = "42[\"join\",\"" + gRoomIds[size_t(c.room)] + "\"]";
          sendText(c, j);
        } else
          markReady(c);
      } else if (n >= 2 && p[1] == '2') {
        if (n >= 6 && memcmp(p + 2, "[\"m\"", 4) == 0) {
          c.frag = E_DATA;
          scanMarkers(c, p, n);
        } else if (memmem(p, std::min<size_t>(n, 16), "\"joined\"", 8))
          markReady(c);
      } else if (n >= 2 && p[1] == '4') {
        gS.errors++;
      }
      return;
    default:
      return;
  }
}

// roomcast events: the type is read from the first frame of a message.
void onRoomcastText(Conn& c, bool first, const char* p, size_t n) {
  if (first) c.frag = classifyRoomcast(p, n);
  switch (c.frag) {
    case E_DATA:
      scanMarkers(c, p, n);
      return;
    case E_HELLO:
      if (!first) return;
      if (c.kind == K_ADMIN) {
        if (gOnAdminHello) gOnAdminHello(c);
      } else if (c.room >= 0 && O.room.empty()) {
        std::string j = "{\"type\":\"clientJoinRoom\",\"payload\":{\"roomId\":\"" +
                        gRoomIds[size_t(c.room)] + "\"}}";
        sendText(c, j);
      } else
        markReady(c);
      return;
    case E_JOINED:
      if (first && c.kind == K_MEMBER) markReady(c);
      return;
    case E_CREATED:
      if (first && c.kind == K_ADMIN && gOnAdminCreated) gOnAdminCreated(c, p, n);
      return;
    case E_ERROR:
      if (!first) return;
      gS.errors++;
      if (memmem(p, n, "RATE_LIMITED", 12)) gS.rateLimited++;
      if (c.kind == K_MEMBER && gInStep && memmem(p, n, "\"clientMessages\"", 16)) {
        gS.sendErrors++;
        if (gRoomSent && c.room >= 0 && size_t(c.room) - gRoomLo < gRoomSent->size() &&
            (*gRoomSent)[size_t(c.room) - gRoomLo] > 0)
          (*gRoomSent)[size_t(c.room) - gRoomLo]--;
      }
      if (c.kind == K_MEMBER && !c.counted && memmem(p, n, "\"clientJoinRoom\"", 16)) {
        c.counted = true;  // never ready: the connect phase must not wait for it
        gFailed++;
        gInFlight--;
      }
      if (gS.errors <= 5) fprintf(stderr, "serverError: %.*s\n", int(std::min<size_t>(n, 300)), p);
      return;
    default:
      return;
  }
}

}  // namespace

void onText(Conn& c, bool first, const char* p, size_t n) {
  if (O.dialect == D_NCHAN)
    scanMarkers(c, p, n);
  else if (O.dialect == D_SOCKETIO)
    onSocketIoText(c, first, p, n);
  else
    onRoomcastText(c, first, p, n);
}

// Consumes WebSocket frames; returns bytes used. Stops if the connection was closed.
void onHttpResp(Conn& c, const HttpResp& r) {
  if (c.st == C_HTTP) {  // account
    if (r.status == 429 || r.status == 503) {
      epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
      c.gen++;
      c.st = C_IDLE;
      gRetries.push_back({gNow + retryAfterUs(r), u32(&c - gConns.data())});
      return;
    }
    if (r.status == 200 || r.status == 204) {
      c.sid = findCookieSid(r);
      if (c.sid.empty()) return failConn(c, "no sid cookie", r.status);
      c.phase = P_WS;
      if (gAccountsOnly && c.kind == K_MEMBER) {
        epoll_ctl(gEp, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.gen++;
        c.st = C_IDLE;
        gAccounts++;
        gInFlight--;
        gLastReady = gNow;
        return;
      }
      int fd = c.fd;
      epoll_ctl(gEp, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      c.fd = -1;
      if (!startConnect(c)) return failConn(c, "reconnect", errno);
      return;
    }
    if (c.phase == P_CREATE && r.status == 400) {  // exists: log in instead
      c.phase = P_LOGIN;
      int fd = c.fd;
      epoll_ctl(gEp, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      c.fd = -1;
      if (!startConnect(c)) return failConn(c, "reconnect", errno);
      return;
    }
    return failConn(c, "account", r.status);
  }
  if (c.st == C_UPGRADE) {
    if (r.status != 101) return failConn(c, "upgrade", r.status);
    c.st = C_WS;
    if (O.dialect == D_NCHAN) markReady(c);
  }
}

void onClosed(Conn& c, int code) {
  if (c.kind == K_PUB) {
    if (gOnPubClosed) gOnPubClosed(c);
    return;
  }
  if (c.kind == K_MEMBER) {
    if (!c.counted) {
      c.counted = true;
      gFailed++;
      gInFlight--;
      if (gFailed <= 5) fprintf(stderr, "client %u closed before ready (code %d)\n", c.gidx, code);
    } else {
      gClosed++;
      gCloseCodes[code]++;
      if (gInStep) gS.closed++;
      if (gClosed <= 5) fprintf(stderr, "client %u closed (code %d)\n", c.gidx, code);
    }
  }
}

}  // namespace bench
