// The WebSocket protocol of docs/protocol.md over real sockets: auth, hello, ordering, history,
// rooms, errors, idempotency and the server push API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { suiteServer } from '../lib/server.mjs';
import { api, createUser, connect, Conn, seqOf, unique, sleep } from '../lib/client.mjs';

const TOKEN = process.env.ROOMCAST_ADMIN_TOKEN || `test-token-${unique()}`;
let server;
before(async () => { server = await suiteServer({ env: { ROOMCAST_ADMIN_TOKEN: TOKEN } }); });
after(async () => { await server.stop(); });

async function newRoom(conn, name = `room ${unique()}`) {
  conn.send('clientCreateRoom', { roomName: name });
  const ev = await conn.next('serverCreateRoom', (p) => p.roomName === name);
  return ev.roomId;
}

test('a missing, forged or foreign-origin session is closed with 1008', async () => {
  for (const opts of [{}, { cookie: 'sid=00000000000000000000000000000000' }, { cookie: 'sid=' }]) {
    const c = new Conn(server.wsUrl, opts);
    assert.equal((await c.closed).code, 1008, JSON.stringify(opts));
  }
  const u = await createUser(server.url);
  const foreign = new Conn(server.wsUrl, { cookie: u.cookie, origin: 'http://evil.example' });
  assert.equal((await foreign.closed).code, 1008);
  const host = new URL(server.url).host;
  const same = await Conn.open(server.wsUrl, { cookie: u.cookie, origin: `http://${host}` });
  await same.next('hello');
  await same.close();
});

test('hello comes first with the user and the default rooms with their latest page', async () => {
  const u = await createUser(server.url);
  const c = await Conn.open(server.wsUrl, { cookie: u.cookie });
  // (The connection records every event from the start: hello may arrive with the upgrade.)
  const hello = await c.next('hello');
  assert.equal(c.events[0].type, 'hello', 'hello is the first event');
  assert.equal(hello.me.username, u.username);
  assert.ok(hello.rooms.length >= 1);
  for (const room of hello.rooms) {
    assert.equal(typeof room.id, 'string');
    assert.equal(typeof room.name, 'string');
    assert.ok(Array.isArray(room.messages));
    assert.equal(typeof room.hasMoreMessages, 'boolean');
  }
  await c.close();
});

test('two users exchange messages in two rooms and see one order per room', async () => {
  const a = await connect(server, await createUser(server.url, 'alice'));
  const b = await connect(server, await createUser(server.url, 'bob'));
  const r1 = await newRoom(a);
  const r2 = await newRoom(a);
  for (const r of [r1, r2]) {
    b.send('clientJoinRoom', { roomId: r });
    await b.next('serverJoinedRoom', (p) => p.room.id === r);
  }
  const N = 30;
  for (let i = 0; i < N; i++) {
    const room = i % 2 ? r2 : r1;
    a.send('clientMessages', { roomId: room, messages: [{ content: `a${i}` }] });
    b.send('clientMessages', { roomId: room, messages: [{ content: `b${i}`, clientId: `b-${i}` }] });
  }
  for (const room of [r1, r2]) {
    const la = await a.waitLive(room, N);
    const lb = await b.waitLive(room, N);
    assert.deepEqual(la.map((m) => m.id), lb.map((m) => m.id), 'same order for both users');
    assert.deepEqual(la.map((m) => m.content), lb.map((m) => m.content));
    assert.deepEqual(la.map((m) => seqOf(m.id)), Array.from({ length: N }, (_, i) => i + 1));
    // Each sender's messages keep their send order.
    const mine = la.filter((m) => m.content.startsWith('b')).map((m) => Number(m.content.slice(1)));
    assert.deepEqual(mine, [...mine].sort((x, y) => x - y));
    for (const m of la) {
      assert.match(m.id, /^\d+-0$/);
      assert.equal(typeof m.timestamp, 'number');
      assert.equal(typeof m.user.id, 'number');
      if (m.content.startsWith('b')) assert.equal(m.clientId, `b-${m.content.slice(1)}`);
      else assert.equal(m.clientId, undefined);
    }
  }
  await a.close();
  await b.close();
});

test('history pages backwards and returns every message exactly once', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const a2 = await connect(server, u);  // rate limits are per connection: use two
  const room = await newRoom(a);
  const N = 123;
  for (let i = 0; i < N; i += 20) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 20); k++) batch.push({ content: `m${k}` });
    a.send('clientMessages', { roomId: room, messages: batch.slice(0, 10) });
    if (batch.length > 10) {
      await a.waitLive(room, i + 10);
      a2.send('clientMessages', { roomId: room, messages: batch.slice(10) });
    }
    await a.waitLive(room, Math.min(N, i + 20));
  }
  await a2.close();
  const seen = [];
  let first;
  for (let pages = 0; pages < 20; pages++) {
    a.send('requestRoomHistory', first ? { roomId: room, firstMessageId: first, count: 25 } : { roomId: room, count: 25 });
    const page = await a.next('serverRoomHistory', (p) => p.roomId === room);
    assert.ok(page.messages.length <= 25);
    seen.push(...page.messages);
    if (!page.hasMoreMessages) break;
    first = page.messages.at(-1).id;
  }
  assert.equal(seen.length, N);
  assert.deepEqual(seen.map((m) => m.content), Array.from({ length: N }, (_, i) => `m${N - 1 - i}`));
  // count is clamped to the maximum page.
  a.send('requestRoomHistory', { roomId: room, count: 100000 });
  const big = await a.next('serverRoomHistory', (p) => p.roomId === room);
  assert.equal(big.messages.length, 100);
  assert.equal(big.hasMoreMessages, true);
  await a.close();
});

// PROTOCOL.md: ids compare as pairs of integers, so "<seq>-<n>" with n > 0 lies after message
// "<seq>-0", and a page before it starts with that message.
test('a history anchor with a nonzero reserved part pages from just below it', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const room = await newRoom(a);
  a.send('clientMessages', { roomId: room, messages: [{ content: 'one' }, { content: 'two' }, { content: 'three' }] });
  await a.waitLive(room, 3);
  const second = `${seqOf(a.live(room)[1].id)}`;
  a.send('requestRoomHistory', { roomId: room, firstMessageId: `${second}-7`, count: 10 });
  const after = await a.next('serverRoomHistory', (p) => p.roomId === room);
  assert.deepEqual(after.messages.map((m) => m.content), ['two', 'one']);
  a.send('requestRoomHistory', { roomId: room, firstMessageId: `${second}-0`, count: 10 });
  const at = await a.next('serverRoomHistory', (p) => p.roomId === room);
  assert.deepEqual(at.messages.map((m) => m.content), ['one']);
  await a.close();
});

test('a new room reaches a second user, who can join, post and leave', async () => {
  const ua = await createUser(server.url);
  const ub = await createUser(server.url);
  const a = await connect(server, ua);
  const b = await connect(server, ub);
  const name = `lobby ${unique()}`;
  a.send('clientCreateRoom', { roomName: name });
  const seenByA = await a.next('serverCreateRoom', (p) => p.roomName === name);
  const seenByB = await b.next('serverCreateRoom', (p) => p.roomName === name);
  assert.equal(seenByA.roomId, seenByB.roomId);
  const room = seenByA.roomId;
  a.send('clientMessages', { roomId: room, messages: [{ content: 'before join' }] });
  await a.waitLive(room, 1);
  b.send('clientMessages', { roomId: room, messages: [{ content: 'not yet' }] });
  assert.equal((await b.next('serverError')).code, 'NOT_MEMBER');
  b.send('clientJoinRoom', { roomId: room });
  const joined = await b.next('serverJoinedRoom');
  assert.equal(joined.room.id, room);
  assert.equal(joined.room.name, name);
  assert.deepEqual(joined.room.messages.map((m) => m.content), ['before join']);
  b.send('clientMessages', { roomId: room, messages: [{ content: 'hello from b' }] });
  assert.equal((await a.waitLive(room, 2))[1].content, 'hello from b');
  assert.deepEqual(b.live(room).map((m) => m.content), (await b.waitLive(room, 1)).map((m) => m.content));
  assert.equal(b.live(room)[0].content, 'hello from b', 'no duplicate of the joined page');
  b.send('clientLeaveRoom', { roomId: room });
  assert.equal((await b.next('serverLeftRoom')).roomId, room);
  a.send('clientMessages', { roomId: room, messages: [{ content: 'after leave' }] });
  await a.waitLive(room, 3);
  await sleep(200);
  assert.equal(b.live(room).length, 1, 'a member who left gets nothing more');
  // A new connection of b no longer lists the room; a's does.
  const a2 = await connect(server, ua);
  const b2 = await connect(server, ub);
  assert.ok(a2.hello.rooms.some((r) => r.id === room));
  assert.ok(!b2.hello.rooms.some((r) => r.id === room));
  await a2.close();
  await b2.close();
  await a.close();
  await b.close();
});

test("a user's other connections follow create, join and leave", async () => {
  const ua = await createUser(server.url);
  const ub = await createUser(server.url);
  const tab1 = await connect(server, ua);
  const tab2 = await connect(server, ua);
  const b = await connect(server, ub);
  const count = (conn, type) => conn.events.filter((e) => e.type === type).length;

  // Created in tab1: tab2 hears of the room and is in it (the creator is a member).
  const name = `shared ${unique()}`;
  tab1.send('clientCreateRoom', { roomName: name });
  const room = (await tab1.next('serverCreateRoom', (p) => p.roomName === name)).roomId;
  await tab2.next('serverCreateRoom', (p) => p.roomId === room);
  const followed = await tab2.next('serverJoinedRoom', (p) => p.room.id === room);
  assert.equal(followed.room.name, name);
  tab1.send('clientMessages', { roomId: room, messages: [{ content: 'from tab1' }] });
  assert.equal((await tab2.waitLive(room, 1))[0].content, 'from tab1');

  // Another user joins: only that user's connection is told.
  b.send('clientJoinRoom', { roomId: room });
  await b.next('serverJoinedRoom', (p) => p.room.id === room);

  // Left in tab2: tab1 leaves too and gets nothing more from the room.
  tab2.send('clientLeaveRoom', { roomId: room });
  await tab2.next('serverLeftRoom', (p) => p.roomId === room);
  await tab1.next('serverLeftRoom', (p) => p.roomId === room);
  b.send('clientMessages', { roomId: room, messages: [{ content: 'after a left' }] });
  await b.waitLive(room, 1);

  // Joined again in tab1: tab2 follows with the room's page, contiguous with the live stream.
  tab1.send('clientJoinRoom', { roomId: room });
  await tab1.next('serverJoinedRoom', (p) => p.room.id === room);
  const again = await tab2.next('serverJoinedRoom', (p) => p.room.id === room);
  assert.deepEqual(again.room.messages.map((m) => m.content), ['after a left', 'from tab1']);
  b.send('clientMessages', { roomId: room, messages: [{ content: 'welcome back' }] });
  for (const tab of [tab1, tab2]) {
    const live = await tab.waitLive(room, 2);
    assert.equal(live.at(-1).content, 'welcome back');
  }
  await sleep(200);
  // The asking connection is answered once, never echoed; the other one once per change.
  assert.equal(count(tab1, 'serverJoinedRoom'), 1);
  assert.equal(count(tab2, 'serverJoinedRoom'), 2);
  assert.equal(count(tab1, 'serverLeftRoom'), 1);
  assert.equal(count(tab2, 'serverLeftRoom'), 1);
  assert.equal(count(b, 'serverJoinedRoom'), 1);
  assert.deepEqual(tab2.live(room).map((m) => m.content), ['from tab1', 'welcome back']);
  for (const c of [tab1, tab2, b]) await c.close();
});

test('bad requests get serverError and the connection keeps serving', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const other = await connect(server, await createUser(server.url));
  const room = a.hello.rooms[0].id;
  a.sendRaw('this is not json');
  let e = await a.next('serverError');
  assert.equal(e.code, 'BAD_REQUEST');
  assert.equal(e.requestType, '');
  a.send('noSuchType', {});
  e = await a.next('serverError');
  assert.deepEqual([e.code, e.requestType], ['UNKNOWN_TYPE', 'noSuchType']);
  a.send('clientMessages', { roomId: `nope-${unique()}`, messages: [{ content: 'x' }] });
  assert.equal((await a.next('serverError')).code, 'UNKNOWN_ROOM');
  a.send('clientMessages', { roomId: room, messages: [{ content: 'x'.repeat(8193) }] });
  e = await a.next('serverError');
  assert.deepEqual([e.code, e.requestType], ['TOO_LONG', 'clientMessages']);
  a.send('clientMessages', { roomId: room, messages: [{ content: '' }] });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientMessages', { roomId: room, messages: [{ content: 5 }] });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientMessages', { roomId: room });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('requestRoomHistory', { roomId: room, firstMessageId: 'abc' });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientCreateRoom', { roomName: '' });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientCreateRoom', { roomName: 'x'.repeat(65) });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientJoinRoom', { roomId: `nope-${unique()}` });
  assert.equal((await a.next('serverError')).code, 'UNKNOWN_ROOM');
  // Exactly 8 KiB of multi-byte text is accepted.
  const content = 'é'.repeat(4096);
  a.send('clientMessages', { roomId: room, messages: [{ content }] });
  const got = await a.next('serverMessages', (p) => p.messages.some((m) => m.content === content));
  assert.ok(got);

  // Oversize frame: closed with 1009; binary: 1003. Others keep being served.
  const big = await connect(server, u);
  big.sendRaw(JSON.stringify({ type: 'clientMessages', payload: { roomId: room, messages: [{ content: 'y'.repeat(70000) }] } }));
  assert.equal((await big.closed).code, 1009);
  const bin = await connect(server, u);
  bin.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await bin.closed).code, 1003);
  other.send('clientMessages', { roomId: room, messages: [{ content: 'still alive' }] });
  await a.next('serverMessages', (p) => p.messages.some((m) => m.content === 'still alive'));
  await a.close();
  await other.close();
});

test('a repeated clientId creates one message', async () => {
  const a = await connect(server, await createUser(server.url));
  const b = await connect(server, await createUser(server.url));
  const room = await newRoom(a);
  b.send('clientJoinRoom', { roomId: room });
  await b.next('serverJoinedRoom');
  const clientId = `cid-${unique()}`;
  a.send('clientMessages', { roomId: room, messages: [{ content: 'once', clientId }] });
  a.send('clientMessages', { roomId: room, messages: [{ content: 'once', clientId }] });
  await sleep(50);
  a.send('clientMessages', { roomId: room, messages: [{ content: 'once', clientId }, { content: 'marker' }] });
  for (const c of [a, b]) {
    const live = await c.waitLive(room, 2);
    await sleep(100);
    assert.deepEqual(c.live(room).map((m) => m.content), ['once', 'marker']);
    assert.equal(live[0].clientId, clientId);
  }
  a.send('requestRoomHistory', { roomId: room });
  const page = await a.next('serverRoomHistory');
  assert.deepEqual(page.messages.map((m) => m.content), ['marker', 'once']);
  await a.close();
  await b.close();
});

test('bursts past the message rate get RATE_LIMITED', async () => {
  const a = await connect(server, await createUser(server.url));
  const room = await newRoom(a);
  for (let i = 0; i < 130; i++) a.send('clientMessages', { roomId: room, messages: [{ content: `r${i}` }] });
  const e = await a.next('serverError', (p) => p.code === 'RATE_LIMITED');
  assert.equal(e.requestType, 'clientMessages');
  await a.waitLive(room, 100);
  await sleep(200);
  const n = a.live(room).length;
  assert.ok(n >= 100 && n < 130, `accepted ${n}`);
  await a.close();
});

test('server push API: token required; users, room and broadcast pushes arrive', async (t) => {
  if (server.external && !process.env.ROOMCAST_ADMIN_TOKEN) return t.skip('no admin token for the external server');
  let r = await api(server.url, '/api/push/broadcast', { body: { op: 1, body: {} } });
  assert.equal(r.status, 401);
  const u = await createUser(server.url);
  r = await api(server.url, '/api/push/broadcast', { cookie: u.cookie, body: { op: 1, body: {} } });
  assert.equal(r.status, 401, 'a user cookie is not an admin token');
  r = await api(server.url, '/api/push/room', { token: TOKEN, body: { op: 1 } });
  assert.equal(r.status, 400);

  const d1 = await connect(server, u);
  const d2 = await connect(server, u);
  const other = await connect(server, await createUser(server.url));
  const userId = d1.hello.me.id;
  r = await api(server.url, '/api/push/users', { token: TOKEN, body: { userIds: [userId], op: 7, body: { hi: 'you' } } });
  assert.equal(r.status, 200);
  for (const c of [d1, d2]) assert.deepEqual(await c.next('serverPush'), { op: 7, body: { hi: 'you' } });
  const room = await newRoom(d1);
  r = await api(server.url, '/api/push/room', { token: TOKEN, body: { roomId: room, op: 8, body: [1, 2] } });
  assert.equal(r.status, 200);
  assert.deepEqual(await d1.next('serverPush'), { op: 8, body: [1, 2] });
  // A burst of room pushes (grouped per room by Job) arrives complete and exactly once.
  await Promise.all(Array.from({ length: 50 }, (_, n) =>
    api(server.url, '/api/push/room', { token: TOKEN, body: { roomId: room, op: 10, body: { n } } })));
  for (let i = 0; i < 50; i++) await d1.next('serverPush', (p) => p.op === 10);
  await sleep(100);
  const burst = d1.events.filter((e) => e.type === 'serverPush' && e.payload.op === 10).map((e) => e.payload.body.n);
  assert.deepEqual([...burst].sort((x, y) => x - y), Array.from({ length: 50 }, (_, n) => n));
  r = await api(server.url, '/api/push/broadcast', { token: TOKEN, body: { op: 9, body: 'all' } });
  assert.equal(r.status, 200);
  assert.deepEqual(await other.next('serverPush'), { op: 9, body: 'all' });
  assert.deepEqual(await d2.next('serverPush', (p) => p.op === 9), { op: 9, body: 'all' });
  await sleep(100);
  assert.ok(!other.events.some((e) => e.type === 'serverPush' && e.payload.op !== 9), 'pushes reach only their targets');
  for (const c of [d1, d2, other]) await c.close();
});

test('server push API: a malformed roomId is 400 BAD_REQUEST, never queued', async (t) => {
  if (server.external && !process.env.ROOMCAST_ADMIN_TOKEN) return t.skip('no admin token for the external server');
  for (const roomId of ['', 'bad id!', 'x'.repeat(65), 'caf\u00e9', 5]) {
    const r = await api(server.url, '/api/push/room', { token: TOKEN, body: { roomId, op: 1, body: {} } });
    assert.equal(r.status, 400, JSON.stringify(roomId));
    assert.equal(r.json.id, 'BAD_REQUEST');
  }
  const r = await api(server.url, '/api/push/room', { token: TOKEN, body: { roomId: 'no-such.room_1', op: 1, body: {} } });
  assert.equal(r.status, 200, 'a well-formed id of a room nobody is in is still a success');
});

test('a hot room: pushes and chat arriving while the gateway fans out reach every member once, in order', async () => {
  // Pushes that arrive while a gateway loop is busy are delivered together; this checks that
  // batching keeps each member's view complete, duplicate-free and in publication order.
  const owner = await connect(server, await createUser(server.url));
  const room = await newRoom(owner);
  const members = [owner];
  for (let i = 0; i < 15; i++) {
    const c = await connect(server, await createUser(server.url));
    c.send('clientJoinRoom', { roomId: room });
    await c.next('serverJoinedRoom');
    members.push(c);
  }
  const N = 90;  // under the per-connection burst allowance (100)
  const chat = (async () => {
    for (let i = 0; i < N; i += 6) {
      owner.send('clientMessages', { roomId: room, messages: Array.from({ length: 6 }, (_, k) => ({ content: `m${i + k}`, clientId: `hot-${i + k}` })) });
      await sleep(2);
    }
  })();
  for (let n = 0; n < N; n++) {  // one publisher, one request at a time: a defined order
    const r = await api(server.url, '/api/push/room', { token: TOKEN, body: { roomId: room, op: 11, body: { n } } });
    assert.equal(r.status, 200);
  }
  await chat;
  for (const c of members) {
    const live = await c.waitLive(room, N);
    assert.deepEqual(live.map((m) => m.content), Array.from({ length: N }, (_, i) => `m${i}`));
    const ids = live.map((m) => seqOf(m.id));
    assert.ok(ids.every((s, i) => i === 0 || s > ids[i - 1]), 'ids ascend');
    for (let i = 0; i < N; i++) await c.next('serverPush', (p) => p.op === 11);
  }
  await sleep(100);
  for (const c of members) {
    const pushes = c.events.filter((e) => e.type === 'serverPush' && e.payload.op === 11).map((e) => e.payload.body.n);
    assert.deepEqual(pushes, Array.from({ length: N }, (_, n) => n));
    assert.equal(c.live(room).length, N, 'no duplicate');
  }
  for (const c of members) await c.close();
});
