// Presence state of the browser client (docs/protocol.md "Presence, typing and read state"): online
// counts per room, who is typing, member lists, and the server's read positions. ChatClient
// holds messages; this holds what is around them.

import { compareIds } from './ids.js';

export const TYPING_SEND_MS = 2000; // the server drops more frequent clientTyping anyway
export const TYPING_SHOW_MS = 4000; // how long "X is typing…" stays without a new event

export class Presence {
  // client: the ChatClient (rooms, me, changed); send(type, payload) when connected.
  constructor({ client, send, onChange = () => {}, timers = globalThis, now = () => Date.now() }) {
    this.client = client;
    this.send = send;
    this.onChange = onChange;
    this.timers = timers;
    this.now = now;
    this.reset();
  }

  reset() {
    this.online = new Map(); // roomId -> count
    this.typing = new Map(); // roomId -> Map(userId -> {user, until})
    this.members = new Map(); // roomId -> {list: [{user, online}], next, loading}
    this.lastTyped = new Map(); // roomId -> when we last sent clientTyping
  }

  // Called with every server event after ChatClient has seen it; true when handled here.
  handleEvent(event) {
    const p = event?.payload || {};
    switch (event?.type) {
      case 'hello':
        for (const room of p.rooms || []) this.online.set(room.id, room.online ?? 0);
        this.onChange({ rooms: true });
        return false;
      case 'serverJoinedRoom':
        if (p.room) this.online.set(p.room.id, p.room.online ?? 0);
        return false;
      case 'serverPresence': return this.onPresence(p);
      case 'serverTyping': return this.onTyping(p);
      case 'serverReadState': return this.onReadState(p);
      case 'serverRoomMembers': return this.onMembers(p);
      case 'serverMessages':
        // A message ends its author's typing.
        for (const m of p.messages || []) this.typing.get(p.roomId)?.delete(m.user?.id);
        return false;
      default: return false;
    }
  }

  onPresence({ roomId, online, joined = [], left = [] }) {
    this.online.set(roomId, online);
    const members = this.members.get(roomId);
    if (members) {
      for (const user of joined) setMember(members, user, true);
      for (const user of left) setMember(members, user, false);
    }
    for (const user of left) this.typing.get(roomId)?.delete(user.id);
    this.onChange({ presence: roomId });
    return true;
  }

  onTyping({ roomId, user }) {
    if (!user || user.id === this.client.me?.id) return true;
    if (!this.typing.has(roomId)) this.typing.set(roomId, new Map());
    this.typing.get(roomId).set(user.id, { user, until: this.now() + TYPING_SHOW_MS });
    this.timers.setTimeout(() => this.onChange({ presence: roomId }), TYPING_SHOW_MS + 50);
    this.onChange({ presence: roomId });
    return true;
  }

  // Another connection of ours read further: so did we.
  onReadState({ roomId, lastReadId }) {
    const room = this.client.rooms.get(roomId);
    if (room && compareIds(lastReadId, room.readMark) > 0) {
      room.readMark = lastReadId;
      this.client.changed({ rooms: true });
    }
    return true;
  }

  onMembers({ roomId, members = [], next }) {
    const entry = this.members.get(roomId) || { list: [], next: null, loading: false };
    for (const m of members) setMember(entry, m.user, m.online);
    entry.next = next ?? null;
    entry.loading = false;
    this.members.set(roomId, entry);
    this.onChange({ presence: roomId });
    return true;
  }

  // ---- actions ----

  // The user typed in the composer of `roomId`.
  typed(roomId) {
    const last = this.lastTyped.get(roomId) ?? -Infinity;
    if (!this.client.ready || this.now() - last < TYPING_SEND_MS) return;
    this.lastTyped.set(roomId, this.now());
    this.send('clientTyping', { roomId });
  }

  // Loads the member list from the start, or its next page.
  loadMembers(roomId, { more = false } = {}) {
    if (!this.client.ready) return;
    const entry = this.members.get(roomId);
    if (entry?.loading) return;
    if (more && !entry?.next) return;
    if (!more) this.members.set(roomId, { list: [], next: null, loading: true });
    else entry.loading = true;
    this.send('requestRoomMembers', more ? { roomId, after: entry.next } : { roomId });
  }

  // ---- queries ----

  onlineCount(roomId) { return this.online.get(roomId) ?? 0; }

  typingUsers(roomId) {
    const now = this.now();
    const users = [];
    for (const [id, t] of this.typing.get(roomId) || []) {
      if (t.until > now) users.push(t.user);
      else this.typing.get(roomId).delete(id);
    }
    return users;
  }

  // Online members first, then by name.
  memberList(roomId) {
    const entry = this.members.get(roomId);
    if (!entry) return null;
    return [...entry.list].sort((a, b) =>
      (b.online - a.online) || a.user.username.localeCompare(b.user.username));
  }

  hasMoreMembers(roomId) { return !!this.members.get(roomId)?.next; }
}

function setMember(entry, user, online) {
  const found = entry.list.find((m) => m.user.id === user.id);
  if (found) found.online = online;
  else entry.list.push({ user, online });
}

// "Ann is typing…", "Ann and Bob are typing…", "Several people are typing…".
export function typingText(users) {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0].username} is typing…`;
  if (users.length === 2) return `${users[0].username} and ${users[1].username} are typing…`;
  return 'Several people are typing…';
}
