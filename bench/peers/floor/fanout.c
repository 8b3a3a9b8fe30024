// Channels, publishing and delivery. A publish builds the frame once and appends it to every
// thread's inbox (an eventfd wakes a thread whose inbox was empty); each thread then delivers
// to its own subscribers: --merge 0 writes each message to each subscriber on its own,
// --merge 1 concatenates everything pending for a channel and writes it once per subscriber.

#include "floor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint32_t chan_hash(const char* s, size_t n) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

chan* chan_find(worker* w, uint32_t hash, const char* name, size_t len, int create) {
  chan** slot = &w->chans[hash % FLOOR_BUCKETS];
  for (chan* ch = *slot; ch; ch = ch->next)
    if (ch->hash == hash && ch->len == len && memcmp(ch->name, name, len) == 0) return ch;
  if (!create) return NULL;
  chan* ch = calloc(1, sizeof *ch);
  if (!ch) return NULL;
  ch->hash = hash;
  ch->len = (uint16_t)len;
  memcpy(ch->name, name, len);
  ch->next = *slot;
  *slot = ch;
  return ch;
}

void chan_subscribe(worker* w, conn* c, const char* name, size_t len) {
  chan* ch = chan_find(w, chan_hash(name, len), name, len, 1);
  if (!ch) return;
  if (ch->nsubs == ch->cap) {
    uint32_t cap = ch->cap ? ch->cap * 2 : 16;
    conn** subs = realloc(ch->subs, cap * sizeof *subs);
    if (!subs) return;
    ch->subs = subs;
    ch->cap = cap;
  }
  c->ch = ch;
  c->sub_idx = ch->nsubs;
  ch->subs[ch->nsubs++] = c;
}

void chan_unsubscribe(worker* w, conn* c) {
  (void)w;
  chan* ch = c->ch;
  if (!ch) return;
  conn* last = ch->subs[--ch->nsubs];
  ch->subs[c->sub_idx] = last;
  last->sub_idx = c->sub_idx;
  c->ch = NULL;
}

static void msg_release(msg* m) {
  if (atomic_fetch_sub(&m->refs, 1) == 1) free(m);
}

static void inbox_push(worker* w, msg* m, int wake) {
  pthread_mutex_lock(&w->box.mu);
  int was_empty = w->box.n == 0;
  if (w->box.n == w->box.cap) {
    size_t cap = w->box.cap ? w->box.cap * 2 : 64;
    msg** items = realloc(w->box.items, cap * sizeof *items);
    if (!items) {
      pthread_mutex_unlock(&w->box.mu);
      msg_release(m);
      return;
    }
    w->box.items = items;
    w->box.cap = cap;
  }
  w->box.items[w->box.n++] = m;
  pthread_mutex_unlock(&w->box.mu);
  if (was_empty && wake) {
    uint64_t one = 1;
    if (write(w->event_fd, &one, sizeof one) < 0) perror("eventfd write");
  }
}

void publish(const char* name, size_t name_len, const char* body, size_t body_len) {
  if (name_len > sizeof(((msg*)0)->chan)) return;
  size_t hdr = body_len < 126 ? 2 : body_len < 65536 ? 4 : 10;
  msg* m = malloc(sizeof *m + hdr + body_len);
  if (!m) return;
  atomic_init(&m->refs, g_nworkers);
  m->hash = chan_hash(name, name_len);
  m->chan_len = (uint16_t)name_len;
  memcpy(m->chan, name, name_len);
  unsigned char* f = (unsigned char*)m->frame;
  f[0] = 0x81;  // FIN, text
  if (hdr == 2) {
    f[1] = (unsigned char)body_len;
  } else if (hdr == 4) {
    f[1] = 126;
    f[2] = (unsigned char)(body_len >> 8);
    f[3] = (unsigned char)body_len;
  } else {
    f[1] = 127;
    for (int i = 0; i < 8; i++) f[2 + i] = (unsigned char)((uint64_t)body_len >> (56 - 8 * i));
  }
  memcpy(m->frame + hdr, body, body_len);
  m->frame_len = (uint32_t)(hdr + body_len);
  for (int i = 0; i < g_nworkers; i++) {
    worker* w = &g_workers[i];
    inbox_push(w, m, w != t_self);  // the publishing thread drains its own inbox after its events
  }
}

static int same_chan(const msg* a, const msg* b) {
  return a->hash == b->hash && a->chan_len == b->chan_len &&
         memcmp(a->chan, b->chan, a->chan_len) == 0;
}

static void deliver_each(worker* w, msg** batch, size_t n) {
  for (size_t i = 0; i < n; i++) {
    chan* ch = chan_find(w, batch[i]->hash, batch[i]->chan, batch[i]->chan_len, 0);
    if (!ch) continue;
    for (uint32_t s = ch->nsubs; s-- > 0;)
      conn_send(w, ch->subs[s], batch[i]->frame, batch[i]->frame_len);
  }
}

// Everything pending for one channel becomes one buffer, written once to each subscriber.
static void deliver_merged(worker* w, msg** batch, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!batch[i]) continue;
    msg* first = batch[i];
    size_t total = 0;
    for (size_t j = i; j < n; j++)
      if (batch[j] && same_chan(first, batch[j])) total += batch[j]->frame_len;
    if (total > w->scratch_cap) {
      char* s = realloc(w->scratch, total);
      if (!s) return;
      w->scratch = s;
      w->scratch_cap = total;
    }
    size_t len = 0;
    for (size_t j = i; j < n; j++) {
      if (!batch[j] || !same_chan(first, batch[j])) continue;
      memcpy(w->scratch + len, batch[j]->frame, batch[j]->frame_len);
      len += batch[j]->frame_len;
      if (j > i) {
        msg_release(batch[j]);
        batch[j] = NULL;
      }
    }
    chan* ch = chan_find(w, first->hash, first->chan, first->chan_len, 0);
    for (uint32_t s = ch ? ch->nsubs : 0; s-- > 0;) conn_send(w, ch->subs[s], w->scratch, len);
  }
}

void drain_inbox(worker* w) {
  pthread_mutex_lock(&w->box.mu);
  size_t n = w->box.n;
  msg** items = w->box.items;
  size_t cap = w->box.cap;
  w->box.items = w->batch;
  w->box.cap = w->batch_cap;
  w->box.n = 0;
  pthread_mutex_unlock(&w->box.mu);
  w->batch = items;
  w->batch_cap = cap;
  if (n == 0) return;
  if (g_merge)
    deliver_merged(w, items, n);
  else
    deliver_each(w, items, n);
  for (size_t i = 0; i < n; i++)
    if (items[i]) msg_release(items[i]);
}
