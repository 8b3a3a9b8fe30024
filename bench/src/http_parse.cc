// Small parsers for HTTP responses and the few JSON fields the client reads.

#include "bench.h"

#include <strings.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace bench {

bool ieq(const char* a, const char* b, size_t n) {
  return strncasecmp(a, b, n) == 0;
}
// Returns bytes consumed, 0 when incomplete, SIZE_MAX on garbage.
size_t parseResp(const char* p, size_t n, HttpResp& r) {
  const char* he = static_cast<const char*>(memmem(p, n, "\r\n\r\n", 4));
  if (!he) return n > 65536 ? SIZE_MAX : 0;
  size_t hl = size_t(he - p) + 4;
  if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0) return SIZE_MAX;
  r.status = atoi(p + 9);
  r.hdr = p;
  r.hdrLen = hl;
  long long cl = -1;
  bool chunked = false;
  const char* l = static_cast<const char*>(memchr(p, '\n', hl)) + 1;
  while (l < p + hl - 2) {
    const char* le = static_cast<const char*>(memchr(l, '\n', size_t(p + hl - l)));
    if (!le) break;
    if (ieq(l, "content-length:", 15))
      cl = atoll(l + 15);
    else if (ieq(l, "transfer-encoding:", 18) && memmem(l, size_t(le - l), "chunked", 7))
      chunked = true;
    else if (ieq(l, "connection:", 11) && memmem(l, size_t(le - l), "close", 5))
      r.close = true;
    l = le + 1;
  }
  if (r.status < 200 || r.status == 204 || r.status == 304) cl = 0;
  if (chunked) {
    size_t off = hl;
    for (;;) {
      const char* e = static_cast<const char*>(memmem(p + off, n - off, "\r\n", 2));
      if (!e) return 0;
      size_t sz = strtoul(p + off, nullptr, 16);
      off = size_t(e - p) + 2;
      if (sz == 0) {
        // skip trailers up to the empty line
        for (;;) {
          const char* e2 = static_cast<const char*>(memmem(p + off, n - off, "\r\n", 2));
          if (!e2) return 0;
          bool empty = e2 == p + off;
          off = size_t(e2 - p) + 2;
          if (empty) return off;
        }
      }
      if (off + sz + 2 > n) return 0;
      if (!r.body) {
        r.body = p + off;
        r.bodyLen = sz;
      }
      off += sz + 2;
    }
  }
  if (cl < 0) cl = 0;
  if (hl + size_t(cl) > n) return 0;
  r.body = p + hl;
  r.bodyLen = size_t(cl);
  return hl + size_t(cl);
}

std::string findCookieSid(const HttpResp& r) {
  const char* p = r.hdr;
  const char* e = r.hdr + r.hdrLen;
  while (p < e) {
    const char* le = static_cast<const char*>(memchr(p, '\n', size_t(e - p)));
    if (!le) break;
    if (ieq(p, "set-cookie:", 11)) {
      const char* s = static_cast<const char*>(memmem(p, size_t(le - p), "sid=", 4));
      if (s) {
        s += 4;
        const char* x = s;
        while (x < le && *x != ';' && *x != '\r') x++;
        if (x > s) return std::string(s, x);
      }
    }
    p = le + 1;
  }
  return {};
}

// The string value of "key":"..." (no unescaping), or empty.
std::string_view jsonStr(const char* p, size_t n, std::string_view key) {
  std::string pat = "\"" + std::string(key) + "\":";
  const char* s = static_cast<const char*>(memmem(p, n, pat.data(), pat.size()));
  if (!s) return {};
  s += pat.size();
  const char* e = p + n;
  while (s < e && *s == ' ') s++;
  if (s >= e || *s != '"') return {};
  s++;
  const char* x = static_cast<const char*>(memchr(s, '"', size_t(e - s)));
  if (!x) return {};
  return {s, size_t(x - s)};
}

u64 retryAfterUs(const HttpResp& r) {
  const char* p = r.hdr;
  const char* end = r.hdr + r.hdrLen;
  while (p < end) {
    const char* le = static_cast<const char*>(memchr(p, '\n', size_t(end - p)));
    if (!le) break;
    if (ieq(p, "retry-after:", 12)) return u64(std::max(1, atoi(p + 12))) * 1000000;
    p = le + 1;
  }
  return 1000000;
}

}  // namespace bench
