// Chat state and protocol logic (docs/protocol.md), independent of the DOM and of the socket:
// the app feeds it server events and gives it a `send` function. Kept pure so the
// merge / resume / dedupe rules can be tested in node.

import { compareIds, ZERO_ID } from './ids.js';

const GAP_PAGE_SIZE = 100; // history page size used to fill a gap after a long outage
const RESUME_TIMEOUT_MS = 8000; // give up waiting for a resume answer, page instead
const RATE_LIMIT_RETRY_MS = 1200;

// Random id for clientId; getRandomValues works in insecure contexts too (randomUUID does not).
export function randomClientId() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Room {
  constructor(id, name) {
    this.id = id;
    this.name = name;
    this.messages = []; // confirmed messages, ascending by id, no duplicates
    this.ids = new Set();
    this.hasMore = false; // server has messages older than messages[0]
    this.loading = false; // a requestRoomHistory for this room is in flight
    this.readMark = ZERO_ID; // newest id the user has seen in this room
    // After a reconnect: messages of the hello page / live stream are held here until the
    // resume answer arrives, so the list never shows a gap, even briefly.
    this.awaitingResume = false;
    this.held = [];
    this.resumeTimer = null;
    // When more was missed than the resume replay limit: the old segment is set aside
    // while pages are fetched backwards until they reach it again.
    this.detached = null; // {messages, lastId, hasMore}
  }

  lastId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : null;
  }

  oldestId() {
    return this.messages.length ? this.messages[0].id : null;
  }
}

export class ChatClient {
  // send(type, payload): writes one event to the socket (only called while `ready`).
  // onChange({rooms, roomId}): state changed (sidebar and/or one room's messages).
  // onNotice(kind, text): something to show as a toast ('error' | 'push' | 'info').
  constructor({ send, onChange = () => {}, onNotice = () => {}, timers = globalThis }) {
    this.send = send;
    this.onChange = onChange;
    this.onNotice = onNotice;
    this.timers = timers;
    this.reset();
  }

  reset() {
    for (const room of this.rooms?.values() || []) this.timers.clearTimeout(room.resumeTimer);
    this.me = null;
    this.rooms = new Map(); // joined rooms, sidebar order
    this.known = new Map(); // id -> name: rooms we know of but are not a member of
    this.currentRoomId = null;
    this.pending = new Map(); // clientId -> {clientId, roomId, content, status, timestamp}
    this.ready = false; // hello received on the current connection
    this.pendingCreates = [];
    this.pendingJoins = new Set();
    this.rateLimitTimer = null;
  }

  // ---- connection lifecycle ----

  connectionLost() {
    this.ready = false;
    for (const p of this.pending.values()) p.status = 'queued';
    for (const room of this.rooms.values()) room.loading = false;
    this.pendingCreates = [];
    this.pendingJoins.clear();
    this.changed({ rooms: true, roomId: this.currentRoomId });
  }

  handleEvent(event) {
    const payload = event?.payload || {};
    switch (event?.type) {
      case 'hello': return this.onHello(payload);
      case 'serverMessages': return this.onServerMessages(payload);
      case 'serverRoomHistory': return this.onRoomHistory(payload);
      case 'serverCreateRoom': return this.onCreateRoom(payload);
      case 'serverJoinedRoom': return this.onJoinedRoom(payload);
      case 'serverLeftRoom': return this.onLeftRoom(payload);
      case 'serverError': return this.onServerError(payload);
      case 'serverPush': return this.onNotice('push', describePush(payload));
      default: return undefined; // unknown events are ignored (forward compatibility)
    }
  }

  onHello({ me, rooms = [] }) {
    if (!this.me || this.me.id !== me?.id) this.reset();
    this.me = me;
    const resume = [];
    const inHello = new Set();
    for (const page of rooms) {
      inHello.add(page.id);
      this.known.delete(page.id);
      const room = this.rooms.get(page.id);
      if (room) {
        // Seen before this reconnect: resume from the newest id we hold.
        room.name = page.name;
        resume.push({ roomId: room.id, lastMessageId: room.lastId() || ZERO_ID });
        this.receivePageAfterReconnect(room, page);
      } else {
        this.rooms.set(page.id, this.roomFromPage(page));
      }
    }
    for (const [id, room] of this.rooms) {
      if (!inHello.has(id)) this.forgetRoom(room); // left elsewhere while we were away
    }
    if (!this.rooms.has(this.currentRoomId) && !this.known.has(this.currentRoomId)) {
      this.currentRoomId = this.rooms.keys().next().value ?? null;
    }
    this.ready = true;
    if (resume.length) this.send('clientResume', { rooms: resume });
    for (const room of this.rooms.values()) if (room.detached) this.fillGap(room);
    this.flushPending();
    this.changed({ rooms: true, roomId: this.currentRoomId });
  }

  // A fresh room from a hello or serverJoinedRoom page, read up to the server's read position
  // (a server without one: everything counts as read).
  roomFromPage(page) {
    const room = new Room(page.id, page.name);
    this.merge(room, page.messages || []);
    room.hasMore = !!page.hasMoreMessages;
    room.readMark = page.lastReadId ?? (room.lastId() || ZERO_ID);
    return room;
  }

  // Hello page of a room we already hold. If it overlaps what we have (or is the whole
  // history) nothing can be missing; otherwise hold it until the resume answer fills the gap.
  receivePageAfterReconnect(room, page) {
    const messages = page.messages || [];
    const last = room.lastId();
    const oldestOfPage = minId(messages);
    const overlaps = !page.hasMoreMessages || (last && oldestOfPage && compareIds(oldestOfPage, last) <= 0);
    if (room.awaitingResume || !overlaps) {
      room.awaitingResume = true;
      room.held.push(...messages);
      this.timers.clearTimeout(room.resumeTimer);
      room.resumeTimer = this.timers.setTimeout(() => {
        // No answer (e.g. serverError): fall back to paging backwards over the gap.
        if (room.awaitingResume) this.onResumeAnswer(room, { messages: [], hasMoreMessages: true });
      }, RESUME_TIMEOUT_MS);
    } else {
      if (!room.messages.length) room.hasMore = !!page.hasMoreMessages;
      this.merge(room, messages);
    }
  }

  onServerMessages({ roomId, messages = [] }) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (room.awaitingResume) room.held.push(...messages);
    else this.merge(room, messages);
    this.changed({ rooms: true, roomId });
  }

  onRoomHistory(payload) {
    const room = this.rooms.get(payload.roomId);
    if (!room) return;
    if (payload.resume) this.onResumeAnswer(room, payload);
    else this.onHistoryPage(room, payload);
    this.changed({ rooms: true, roomId: room.id });
  }

  onResumeAnswer(room, { messages = [], hasMoreMessages }) {
    if (!room.awaitingResume) {
      this.merge(room, messages); // a repeated answer: merging is idempotent
      return;
    }
    room.awaitingResume = false;
    this.timers.clearTimeout(room.resumeTimer);
    const newer = [...messages, ...room.held];
    room.held = [];
    if (!hasMoreMessages) {
      this.merge(room, newer);
      if (room.detached) this.fillGap(room); // a gap fill interrupted by this reconnect goes on
      return;
    }
    // More was missed than the replay limit: set the old segment aside, show the newer
    // one and page backwards until the two meet.
    if (!room.detached) {
      room.detached = { messages: room.messages, lastId: room.lastId() || ZERO_ID, hasMore: room.hasMore };
    } // else: keep the older detached segment; the middle one will be fetched again
    room.messages = [];
    room.ids = new Set();
    this.merge(room, newer);
    room.hasMore = true;
    this.fillGap(room);
  }

  onHistoryPage(room, { messages = [], hasMoreMessages }) {
    room.loading = false;
    const oldestBefore = room.oldestId();
    const oldestOfPage = minId(messages);
    this.merge(room, messages);
    // Only a page reaching below what we hold says anything about older messages.
    if (!oldestBefore || !oldestOfPage || compareIds(oldestOfPage, oldestBefore) <= 0) {
      room.hasMore = !!hasMoreMessages;
    }
    const gap = room.detached;
    if (!gap) return;
    const reached = !room.hasMore || (room.oldestId() && compareIds(room.oldestId(), gap.lastId) <= 0);
    if (!reached) {
      this.fillGap(room);
      return;
    }
    room.detached = null;
    const detachedOldest = gap.messages.length ? gap.messages[0].id : null;
    const pageWentFurther = !detachedOldest || (oldestOfPage && compareIds(oldestOfPage, detachedOldest) < 0);
    this.merge(room, gap.messages);
    if (room.hasMore && !pageWentFurther) room.hasMore = gap.hasMore;
  }

  onCreateRoom({ roomId, roomName }) {
    if (!roomId || this.rooms.has(roomId)) return;
    const mine = this.pendingCreates.indexOf(String(roomName).trim());
    if (mine >= 0) {
      // We created it, so we are a member; a new room starts empty.
      this.pendingCreates.splice(mine, 1);
      this.known.delete(roomId);
      this.rooms.set(roomId, new Room(roomId, roomName));
      this.currentRoomId = roomId;
    } else {
      this.known.set(roomId, roomName);
    }
    this.changed({ rooms: true, roomId: this.currentRoomId });
  }

  onJoinedRoom({ room: page }) {
    if (!page?.id) return;
    this.known.delete(page.id);
    const existing = this.rooms.get(page.id);
    if (existing) this.merge(existing, page.messages || []);
    else this.rooms.set(page.id, this.roomFromPage(page));
    if (this.pendingJoins.delete(page.id)) this.currentRoomId = page.id;
    this.changed({ rooms: true, roomId: page.id });
  }

  onLeftRoom({ roomId }) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.forgetRoom(room);
    if (this.currentRoomId === roomId) this.currentRoomId = this.rooms.keys().next().value ?? null;
    this.changed({ rooms: true, roomId: this.currentRoomId });
  }

  onServerError({ code, message, requestType }) {
    if (requestType === 'requestRoomHistory') {
      for (const room of this.rooms.values()) {
        if (room.loading) {
          room.loading = false;
          room.hasMore = room.detached ? room.hasMore : false; // stop asking in a loop
        }
      }
    } else if (requestType === 'clientCreateRoom') {
      this.pendingCreates.shift();
    } else if (requestType === 'clientJoinRoom') {
      this.pendingJoins.clear();
    } else if (requestType === 'clientMessages' && code === 'RATE_LIMITED') {
      // Some messages were dropped; re-send every unconfirmed one (the server dedupes
      // by clientId, so those that did get through are not duplicated).
      this.timers.clearTimeout(this.rateLimitTimer);
      this.rateLimitTimer = this.timers.setTimeout(() => {
        if (!this.ready) return;
        for (const p of this.pending.values()) p.status = 'queued';
        this.flushPending();
      }, RATE_LIMIT_RETRY_MS);
    }
    this.onNotice('error', message || code || 'Something went wrong');
    this.changed({ rooms: true, roomId: this.currentRoomId });
  }

  // ---- user actions ----

  openRoom(roomId) {
    this.currentRoomId = roomId;
    this.markRead(roomId);
    this.changed({ rooms: true, roomId });
  }

  markRead(roomId) {
    const room = this.rooms.get(roomId);
    const last = room?.lastId();
    if (last && compareIds(last, room.readMark) > 0) {
      room.readMark = last;
      // The server keeps it for the user's other connections and the next hello.
      if (this.ready) this.send('clientMarkRead', { roomId, lastMessageId: last });
      this.changed({ rooms: true });
    }
  }

  // Queues a message; it is shown at once as pending and sent as soon as we are connected.
  sendMessage(roomId, content) {
    if (!this.rooms.has(roomId)) return null;
    const pending = { clientId: randomClientId(), roomId, content, status: 'queued', timestamp: Date.now() };
    this.pending.set(pending.clientId, pending);
    this.flushPending();
    this.changed({ roomId });
    return pending;
  }

  // Asks for the page before the oldest message held; false when there is nothing to do.
  loadOlder(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || !this.ready || room.loading || room.awaitingResume || !room.hasMore) return false;
    this.requestPage(room, undefined);
    this.changed({ roomId });
    return true;
  }

  createRoom(name) {
    const roomName = String(name).trim();
    if (!this.ready || !roomName) return false;
    this.pendingCreates.push(roomName);
    this.send('clientCreateRoom', { roomName });
    return true;
  }

  joinRoom(roomId) {
    if (!this.ready) return false;
    this.pendingJoins.add(roomId);
    this.send('clientJoinRoom', { roomId });
    return true;
  }

  leaveRoom(roomId) {
    if (!this.ready) return false;
    this.send('clientLeaveRoom', { roomId });
    return true;
  }

  // ---- queries for the view ----

  unreadCount(room) {
    let count = 0;
    for (let i = room.messages.length - 1; i >= 0; i--) {
      const message = room.messages[i];
      if (compareIds(message.id, room.readMark) <= 0) break;
      if (message.user?.id !== this.me?.id) count++;
    }
    return count;
  }

  pendingFor(roomId) {
    return [...this.pending.values()].filter((p) => p.roomId === roomId);
  }

  // ---- internals ----

  flushPending() {
    if (!this.ready) return;
    for (const p of this.pending.values()) {
      if (p.status !== 'queued' || !this.rooms.has(p.roomId)) continue;
      p.status = 'sent';
      this.send('clientMessages', { roomId: p.roomId, messages: [{ content: p.content, clientId: p.clientId }] });
    }
  }

  fillGap(room) {
    if (!this.ready || room.loading || room.awaitingResume) return;
    this.requestPage(room, GAP_PAGE_SIZE);
  }

  requestPage(room, count) {
    room.loading = true;
    const payload = { roomId: room.id };
    if (room.oldestId()) payload.firstMessageId = room.oldestId();
    if (count) payload.count = count;
    this.send('requestRoomHistory', payload);
  }

  // Inserts messages (any order) keeping ascending order; duplicates are dropped.
  merge(room, messages) {
    const fresh = [];
    for (const message of messages) {
      if (!message || typeof message.id !== 'string') continue;
      this.confirmPending(message);
      if (room.ids.has(message.id)) continue;
      room.ids.add(message.id);
      fresh.push(message);
    }
    if (!fresh.length) return;
    fresh.sort((a, b) => compareIds(a.id, b.id));
    const list = room.messages;
    if (!list.length || compareIds(fresh[0].id, list[list.length - 1].id) > 0) {
      list.push(...fresh); // the common case: live messages
    } else if (compareIds(fresh[fresh.length - 1].id, list[0].id) < 0) {
      room.messages = fresh.concat(list); // an older page
    } else {
      room.messages = list.concat(fresh).sort((a, b) => compareIds(a.id, b.id));
    }
  }

  confirmPending(message) {
    if (message.clientId && message.user?.id === this.me?.id) this.pending.delete(message.clientId);
  }

  forgetRoom(room) {
    this.timers.clearTimeout(room.resumeTimer);
    this.rooms.delete(room.id);
    this.known.set(room.id, room.name);
    for (const [clientId, p] of this.pending) {
      if (p.roomId === room.id) this.pending.delete(clientId);
    }
  }

  changed(what) {
    this.onChange(what);
  }
}

function minId(messages) {
  let min = null;
  for (const m of messages) if (m && (min === null || compareIds(m.id, min) < 0)) min = m.id;
  return min;
}

function describePush({ op, body }) {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    for (const key of ['message', 'text', 'content', 'title']) {
      if (typeof body[key] === 'string') return body[key];
    }
  }
  const text = JSON.stringify(body ?? null);
  return `Notice (op ${op}): ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}
