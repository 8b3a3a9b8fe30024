// The body marker "~R<room>~U<sender>~S<seq>~T<send time µs>~K<step>~": writing it into
// published messages and scanning received data for it (latency, loss, duplicates, order).

#include "bench.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace bench {

// ------------------------------------------------------------------------------------------
// Body marker

bool parseNum(const char*& p, const char* e, u64& v) {
  if (p >= e || *p < '0' || *p > '9') return false;
  v = 0;
  while (p < e && *p >= '0' && *p <= '9') v = v * 10 + u64(*p++ - '0');
  return true;
}

size_t writeMarker(char* b, size_t cap, u32 room, u32 slot, u32 seq, u64 ts, u32 step,
                   size_t total) {
  int n =
      snprintf(b, cap, "~R%u~U%u~S%u~T%llu~K%u~", room, slot, seq, (unsigned long long)ts, step);
  size_t len = size_t(n);
  while (len < total && len < cap) b[len++] = 'x';
  return len;
}

void onDelivery(Conn& c, u64 room, u64 slot, u64 seq, u64 ts, u64 step) {
  if (!gInStep || step != gStep) {
    gS.late++;
    return;
  }
  u64 lat = gNow > ts ? gNow - ts : 0;
  gS.h.add(lat);
  if (!gS.firstDeliveryUs) gS.firstDeliveryUs = gNow;
  gS.lastDeliveryUs = gNow;
  if (int64_t(room) != c.room || slot >= u64(gSlots)) {
    gS.wrongRoom++;
    return;
  }
  Track& t = c.tr[slot];
  u32 s = u32(seq);
  if (s > t.max) {
    u32 d = s - t.max;
    t.win = d >= 64 ? 1 : (t.win << d) | 1;
    t.max = s;
  } else if (s == t.max) {
    gS.dups++;
    return;
  } else {
    u32 d = t.max - s;
    if (d < 64) {
      if (t.win & (u64(1) << d)) {
        gS.dups++;
        return;
      }
      t.win |= u64(1) << d;
    }
    gS.reordered++;
  }
  c.uniqStep++;
  gS.delivered++;
}

void scanMarkers(Conn& c, const char* p, size_t n) {
  const char* e = p + n;
  while (p < e) {
    const char* m = static_cast<const char*>(memmem(p, size_t(e - p), "~R", 2));
    if (!m) return;
    p = m + 2;
    u64 room, slot, seq, ts, step;
    if (!parseNum(p, e, room) || e - p < 2 || memcmp(p, "~U", 2)) continue;
    p += 2;
    if (!parseNum(p, e, slot) || e - p < 2 || memcmp(p, "~S", 2)) continue;
    p += 2;
    if (!parseNum(p, e, seq) || e - p < 2 || memcmp(p, "~T", 2)) continue;
    p += 2;
    if (!parseNum(p, e, ts) || e - p < 2 || memcmp(p, "~K", 2)) continue;
    p += 2;
    if (!parseNum(p, e, step)) continue;
    onDelivery(c, room, slot, seq, ts, step);
  }
}

// ------------------------------------------------------------------------------------------
// Message bodies

// Builds the client message frame text for S4 (roomcast clientMessages).
const std::string& buildClientMessage(u32 room, u32 slot, u32 seq, u64 ts) {
  char m[4096];
  size_t ml = writeMarker(m, sizeof m, room, slot, seq, ts, gStep, size_t(O.msgBytes));
  static std::string s;
  s.clear();
  s += "{\"type\":\"clientMessages\",\"payload\":{\"roomId\":\"";
  s += gRoomIds[room];
  s += "\",\"messages\":[{\"content\":\"";
  s.append(m, ml);
  s += "\",\"clientId\":\"";
  char id[32];
  s.append(id, size_t(snprintf(id, sizeof id, "%u-%u", slot, seq)));
  s += "\"}]}}";
  return s;
}

// Appends one publish request to out.
void appendPublish(std::string& out, u32 room, u32 seq, u64 ts) {
  char m[4096];
  size_t ml = writeMarker(m, sizeof m, room, 0, seq, ts, gStep, size_t(O.msgBytes));
  char hdr[512];
  std::string_view body;
  static std::string b;
  b.clear();
  if (O.dialect == D_ROOMCAST) {
    b += "{\"roomId\":\"";
    b += gRoomIds[room];
    b += "\",\"op\":1,\"body\":{\"m\":\"";
    b.append(m, ml);
    b += "\"}}";
    int n = snprintf(hdr, sizeof hdr,
                     "POST /api/push/room HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     gHostHdr.c_str(), O.adminToken.c_str(), b.size());
    out.append(hdr, size_t(n));
  } else {
    b.append(m, ml);
    int n = snprintf(
        hdr, sizeof hdr,
        "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
        O.pubPath.c_str(), gRoomIds[room].c_str(), gHostHdr.c_str(), b.size());
    out.append(hdr, size_t(n));
  }
  out += b;
}

}  // namespace bench
