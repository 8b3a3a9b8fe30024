// The floor peer: a minimal multi-threaded epoll fan-out server that speaks the bench's nchan
// dialect (WebSocket subscribers GET /sub/<channel>, publishers POST /pub/<channel> with a raw
// body). It shows what this machine allows; see main.c for the threading and the two modes.

#ifndef FLOOR_H
#define FLOOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FLOOR_MAX_OUT (8u << 20)  // a subscriber further behind than this is closed
#define FLOOR_MAX_IN (64u << 10)  // largest request (headers + body) or client frame
#define FLOOR_BUCKETS 4096        // channel hash buckets per thread

// One published message as a ready WebSocket text frame, shared by every thread.
typedef struct msg {
  atomic_int refs;
  uint32_t hash;
  uint16_t chan_len;
  uint32_t frame_len;
  char chan[64];
  char frame[];
} msg;

struct conn;

// Subscribers of one channel on one thread.
typedef struct chan {
  struct chan* next;
  uint32_t hash;
  uint16_t len;
  char name[64];
  struct conn** subs;
  uint32_t nsubs, cap;
} chan;

enum { CS_HTTP, CS_WS };

typedef struct conn {
  int fd;
  uint8_t state;
  uint8_t want_out;  // EPOLLOUT armed
  uint32_t sub_idx;  // position in chan->subs
  chan* ch;          // the channel subscribed to (CS_WS)
  char* in;          // unparsed input; allocated only while a request/frame is incomplete
  uint32_t in_len;
  char* out;  // unsent output; allocated only while the socket is full
  uint32_t out_len, out_off, out_cap;
} conn;

// Messages handed to a thread by publishers on any thread.
typedef struct inbox {
  pthread_mutex_t mu;
  msg** items;
  size_t n, cap;
} inbox;

typedef struct worker {
  int id, ep, listen_fd, event_fd;
  pthread_t th;
  inbox box;
  msg** batch;  // the inbox swapped out for one drain
  size_t batch_cap;
  chan* chans[FLOOR_BUCKETS];
  char* scratch;  // FLOOR_MAX_IN read buffer / merge buffer
  size_t scratch_cap;
} worker;

extern int g_merge;
extern int g_nworkers;
extern worker* g_workers;
extern __thread worker* t_self;  // the worker running on this thread

// sha1.c
void sha1(const void* data, size_t len, unsigned char out[20]);
size_t base64(const unsigned char* in, size_t n, char* out);
void ws_accept_key(const char* key, size_t key_len, char out[29]);

// conn.c: per-connection protocol (called on the connection's own thread)
void conn_readable(worker* w, conn* c);
void conn_writable(worker* w, conn* c);
void conn_send(worker* w, conn* c, const char* p, size_t n);
void conn_close(worker* w, conn* c);
uint32_t chan_hash(const char* s, size_t n);

// fanout.c: channels, publishing and delivery
chan* chan_find(worker* w, uint32_t hash, const char* name, size_t len, int create);
void chan_subscribe(worker* w, conn* c, const char* name, size_t len);
void chan_unsubscribe(worker* w, conn* c);
void publish(const char* chan, size_t chan_len, const char* body, size_t body_len);
void drain_inbox(worker* w);

#endif
