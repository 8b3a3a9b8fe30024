// Presence, typing and read state (docs/protocol.md revision 3) over real sockets: online counts in
// hello/serverJoinedRoom, serverPresence with its grace and coalescing, the count-only mode of
// large rooms, member lists, typing and its throttle, read positions and the admin API.
// Timings are shortened by configuration so the rules show in seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { api, createUser, connect, unique, sleep } from '../lib/client.mjs';

const TOKEN = `presence-token-${unique()}`;
const GRACE = 800;
const WINDOW = 400;
const LARGE_WINDOW = 1500;
const TYPING = 600;
let server;

before(async () => {
  server = await startServer({
    extraArgs: [
      '--presence-grace-ms', `${GRACE}`, '--presence-window-ms', `${WINDOW}`,
      '--presence-large-window-ms', `${LARGE_WINDOW}`, '--presence-room-limit', '3',
      '--presence-typing-interval-ms', `${TYPING}`, '--presence-member-count-ttl-ms', '100',
      '--presence-members-page', '2', '--rate-per-sec', '100000', '--rate-burst', '100000',
    ],
    env: { ROOMCAST_ADMIN_TOKEN: TOKEN },
  });
});
after(async () => { await server.stop(); });

async function newRoom(conn) {
  const name = `room ${unique()}`;
  conn.send('clientCreateRoom', { roomName: name });
  return (await conn.next('serverCreateRoom', (p) => p.roomName === name)).roomId;
}

async function join(conn, roomId) {
  conn.send('clientJoinRoom', { roomId });
  return (await conn.next('serverJoinedRoom', (p) => p.room.id === roomId)).room;
}

const presenceIn = (conn, roomId) =>
  conn.events.filter((e) => e.type === 'serverPresence' && e.payload.roomId === roomId)
    .map((e) => e.payload);

// Waits until `conn` got a serverPresence for the room with this count.
const presenceWith = (conn, roomId, online, timeout = 5000) =>
  conn.next('serverPresence', (p) => p.roomId === roomId && p.online === online, timeout);

async function users(n, prefix) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await createUser(server.url, prefix));
  return out;
}

test('online counts in hello and serverJoinedRoom; serverPresence names who came and went', async () => {
  const [ua, ub] = await users(2, 'pres');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const self = await presenceWith(a, room, 1);
  assert.deepEqual(self.joined.map((u) => u.username), [ua.username]);
  const b = await connect(server, ub);
  const joined = await join(b, room);
  assert.equal(joined.online, 2);
  assert.equal(joined.lastReadId, '0-0');
  assert.equal(joined.unread, 0);
  const came = await presenceWith(a, room, 2);
  assert.deepEqual(came.joined.map((u) => u.username), [ub.username]);
  assert.deepEqual(came.left, []);
  const b2 = await connect(server, ub);
  assert.equal(b2.hello.rooms.find((r) => r.id === room).online, 2);
  await b.close();
  await b2.close();
  const went = await presenceWith(a, room, 1, GRACE + WINDOW + 3000);
  assert.deepEqual(went.left.map((u) => u.username), [ub.username]);
  assert.deepEqual(went.joined, []);
  await a.close();
});

test('a reload within the grace changes nothing; the admin API shows online with 0 connections', async () => {
  const [ua, ub] = await users(2, 'reload');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  await presenceWith(a, room, 2);
  const bId = b.hello.me.id;
  await b.close();
  const during = await api(server.url, `/api/presence/users?ids=${bId}`, { method: 'GET', token: TOKEN });
  assert.equal(during.status, 200);
  assert.deepEqual(during.json, { users: [{ id: bId, online: true, connections: 0 }] });
  await sleep(GRACE / 2);
  const again = await connect(server, ub);  // the reload
  assert.equal(again.hello.rooms.find((r) => r.id === room).online, 2);
  const seen = presenceIn(a, room).length;
  await sleep(GRACE + 2 * WINDOW + 300);
  assert.equal(presenceIn(a, room).length, seen, 'no serverPresence for a reload');
  const now = await api(server.url, `/api/presence/users?ids=${bId},999999`, { method: 'GET', token: TOKEN });
  assert.deepEqual(now.json.users, [
    { id: bId, online: true, connections: 1 },
    { id: 999999, online: false, connections: 0 },
  ]);
  const count = await api(server.url, `/api/presence/room?roomId=${room}`, { method: 'GET', token: TOKEN });
  assert.deepEqual(count.json, { roomId: room, online: 2 });
  await again.close();
  await a.close();
});

test('the admin presence API needs the admin token and well-formed parameters', async () => {
  assert.equal((await api(server.url, '/api/presence/users?ids=1', { method: 'GET' })).status, 401);
  assert.equal((await api(server.url, '/api/presence/room?roomId=beast', { method: 'GET', token: 'wrong' })).status, 401);
  for (const q of ['', '?ids=', '?ids=1,,2', '?ids=x', '?ids=1,'])
    assert.equal((await api(server.url, `/api/presence/users${q}`, { method: 'GET', token: TOKEN })).status, 400, q);
  assert.equal((await api(server.url, '/api/presence/room?roomId=a%20b', { method: 'GET', token: TOKEN })).status, 400);
  assert.equal((await api(server.url, '/api/presence/room', { token: TOKEN, body: {} })).status, 405);
});

test('changes are coalesced: at most one serverPresence per room per window', async () => {
  const [owner, ...others] = await users(3, 'burst');
  const a = await connect(server, owner);
  const room = await newRoom(a);
  await presenceWith(a, room, 1);
  const conns = [];
  for (const u of others) conns.push(await connect(server, u));
  await Promise.all(conns.map((c) => join(c, room)));
  await presenceWith(a, room, 3);
  const events = a.events.filter((e) => e.type === 'serverPresence' && e.payload.roomId === room);
  const joinedNames = events.flatMap((e) => e.payload.joined.map((u) => u.username));
  assert.deepEqual(new Set(joinedNames), new Set([owner.username, ...others.map((u) => u.username)]));
  // Arrival times are not recorded by the client: check the spacing with a second burst.
  const stamps = [];
  a.ws.on('message', (d) => {
    const ev = JSON.parse(d.toString());
    if (ev.type === 'serverPresence' && ev.payload.roomId === room) stamps.push(Date.now());
  });
  for (const c of conns) { await c.close(); await sleep(50); }
  await presenceWith(a, room, 1, GRACE + 3 * WINDOW + 3000);
  for (let i = 1; i < stamps.length; i++)
    assert.ok(stamps[i] - stamps[i - 1] >= WINDOW - 50, `events ${stamps[i] - stamps[i - 1]} ms apart`);
  await a.close();
});

test('rooms with more members than presence_room_limit send counts only, less often', async () => {
  const members = await users(5, 'large');
  const conns = [];
  for (const u of members) conns.push(await connect(server, u));
  const room = await newRoom(conns[0]);
  for (const c of conns.slice(1, 4)) await join(c, room);  // 4 members > limit 3
  await sleep(LARGE_WINDOW + 500);  // the member count is refreshed and the burst sent
  const watcher = conns[0];
  const from = watcher.events.length;
  await join(conns[4], room);
  await conns[3].close();
  await conns[2].close();
  await sleep(GRACE + 2 * LARGE_WINDOW + 500);
  const later = watcher.events.slice(from)
    .filter((e) => e.type === 'serverPresence' && e.payload.roomId === room).map((e) => e.payload);
  assert.ok(later.length >= 1 && later.length <= 3, `${later.length} events`);
  for (const p of later) assert.deepEqual([p.joined, p.left], [[], []]);
  assert.equal(later.at(-1).online, 3);
  for (const c of [conns[0], conns[1], conns[4]]) await c.close();
});

test('requestRoomMembers pages members by id with their online state, for members only', async () => {
  const [ua, ub, uc, outsider] = await users(4, 'members');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  await b.close();
  const c = await connect(server, uc);
  await join(c, room);
  c.send('requestRoomMembers', { roomId: room });
  const first = await c.next('serverRoomMembers');
  assert.equal(first.roomId, room);
  assert.equal(first.members.length, 2);
  assert.equal(typeof first.next, 'string');
  c.send('requestRoomMembers', { roomId: room, after: first.next });
  const second = await c.next('serverRoomMembers');
  assert.equal(second.members.length, 1);
  assert.equal(second.next, undefined);
  const all = [...first.members, ...second.members];
  const ids = all.map((m) => m.user.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
  assert.deepEqual(all.map((m) => m.user.username), [ua.username, ub.username, uc.username]);
  await sleep(GRACE + 100);
  c.send('requestRoomMembers', { roomId: room });
  const now = await c.next('serverRoomMembers');
  assert.deepEqual(now.members.map((m) => m.online), [true, false]);
  const o = await connect(server, outsider);
  o.send('requestRoomMembers', { roomId: room });
  assert.equal((await o.next('serverError')).code, 'NOT_MEMBER');
  o.send('requestRoomMembers', { roomId: room, after: 'x' });
  assert.ok(['NOT_MEMBER', 'BAD_REQUEST'].includes((await o.next('serverError')).code));
  for (const x of [a, c, o]) await x.close();
});

test('typing reaches the other members, not the typer, at most once per interval', async () => {
  const [ua, ub, outsider] = await users(3, 'typing');
  const a = await connect(server, ua);
  const a2 = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  await a2.next('serverJoinedRoom', (p) => p.room.id === room);
  a.send('clientTyping', { roomId: room });
  const t = await b.next('serverTyping');
  assert.deepEqual(t, { roomId: room, user: { id: a.hello.me.id, username: ua.username } });
  a.send('clientTyping', { roomId: room });
  a2.send('clientTyping', { roomId: room });
  await sleep(TYPING / 2);
  assert.equal(b.events.filter((e) => e.type === 'serverTyping').length, 1, 'extras are dropped');
  await sleep(TYPING);
  a2.send('clientTyping', { roomId: room });
  await b.next('serverTyping');
  await sleep(200);
  for (const x of [a, a2]) {
    assert.equal(x.events.filter((e) => e.type === 'serverTyping').length, 0);
    assert.equal(x.events.filter((e) => e.type === 'serverError').length, 0);
  }
  const o = await connect(server, outsider);
  o.send('clientTyping', { roomId: room });
  assert.equal((await o.next('serverError')).code, 'NOT_MEMBER');
  // Room ids are checked by the rule before anything else.
  for (const [type, extra] of [['clientTyping', {}], ['clientMarkRead', { lastMessageId: '1-0' }],
    ['requestRoomMembers', {}]]) {
    o.send(type, { roomId: 'no spaces/allowed', ...extra });
    const err = await o.next('serverError');
    assert.deepEqual([err.code, err.requestType], ['BAD_REQUEST', type]);
  }
  for (const x of [a, a2, b, o]) await x.close();
});

async function post(conn, roomId, n) {
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, (_, k) => ({ content: `m${i + k}` }));
    conn.send('clientMessages', { roomId, messages: batch });
  }
  const deadline = Date.now() + 10000;
  while (conn.live(roomId).length < n) {
    if (Date.now() > deadline) throw new Error('messages did not arrive');
    await sleep(20);
  }
  return conn.live(roomId).at(-1).id;
}

const roomOf = (conn, roomId) => conn.hello.rooms.find((r) => r.id === roomId);

test('read positions: forward only, clamped, own messages read, others told', async () => {
  const [ua, ub] = await users(2, 'read');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  assert.equal(await post(a, room, 5), '5-0');
  const b2 = await connect(server, ub);
  assert.deepEqual([roomOf(b2, room).lastReadId, roomOf(b2, room).unread], ['0-0', 5]);
  const a2 = await connect(server, ua);
  assert.deepEqual([roomOf(a2, room).lastReadId, roomOf(a2, room).unread], ['5-0', 0]);

  b.send('clientMarkRead', { roomId: room, lastMessageId: '3-0' });
  assert.deepEqual(await b2.next('serverReadState'), { roomId: room, lastReadId: '3-0', unread: 2 });
  b.send('clientMarkRead', { roomId: room, lastMessageId: '1-0' });  // older: changes nothing
  await sleep(400);
  const b3 = await connect(server, ub);
  assert.deepEqual([roomOf(b3, room).lastReadId, roomOf(b3, room).unread], ['3-0', 2]);
  b3.send('clientMarkRead', { roomId: room, lastMessageId: '99-0' });  // clamped to the latest
  assert.deepEqual(await b2.next('serverReadState', (p) => p.lastReadId !== '3-0'),
    { roomId: room, lastReadId: '5-0', unread: 0 });
  await sleep(300);
  assert.equal(b3.events.filter((e) => e.type === 'serverReadState').length, 0, 'not to the marker');
  b.send('clientMarkRead', { roomId: room, lastMessageId: 'five' });
  assert.equal((await b.next('serverError')).code, 'BAD_REQUEST');
  for (const x of [a, a2, b, b2, b3]) await x.close();
});

test('an older read mark changes nothing: the other connections get no serverReadState', async () => {
  const [ua, ub] = await users(2, 'older');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  await post(a, room, 4);
  const b2 = await connect(server, ub);
  b.send('clientMarkRead', { roomId: room, lastMessageId: '3-0' });
  assert.deepEqual(await b2.next('serverReadState'), { roomId: room, lastReadId: '3-0', unread: 1 });
  b.send('clientMarkRead', { roomId: room, lastMessageId: '2-0' });  // older: changes nothing
  b.send('requestRoomHistory', { roomId: room });  // answered after the mark was handled
  await b.next('serverRoomHistory');
  await sleep(400);  // past the serverReadState coalescing window
  assert.equal(b2.events.filter((e) => e.type === 'serverReadState').length, 1, 'only the move is told');
  const b3 = await connect(server, ub);
  assert.equal(roomOf(b3, room).lastReadId, '3-0');
  for (const x of [a, b, b2, b3]) await x.close();
});

test('unread is exact up to 999, then 999', async () => {
  const [ua, ub] = await users(2, 'unread');
  const a = await connect(server, ua);
  const room = await newRoom(a);
  const b = await connect(server, ub);
  await join(b, room);
  await b.close();
  await post(a, room, 1001);
  const again = await connect(server, ub);
  assert.equal(roomOf(again, room).unread, 999);
  again.send('clientMarkRead', { roomId: room, lastMessageId: '3-0' });
  await sleep(300);
  const third = await connect(server, ub);
  assert.equal(roomOf(third, room).unread, 998);
  for (const x of [a, again, third]) await x.close();
});
