// The WebSocket rows of docs/protocol.md's Limits table and the close-frame rules, over real
// sockets: each limit answers with its documented error and disturbs nothing else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { createUser, connect, Conn, unique, sleep } from '../lib/client.mjs';
import {
  rawConnect, rawExchange, upgradeRequest, closePayload, closeCodeOf,
} from '../lib/raw-ws.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const TEXT = 1;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

// A raw connection of a fresh user, once hello has arrived.
async function rawGreeted(user) {
  const u = user || (await createUser(server.url));
  const c = await rawConnect(server.port, u.cookie);
  await c.until((f) => f.some((x) => x.opcode === TEXT));
  return c;
}

async function closeAnswer(payload) {
  const c = await rawGreeted();
  c.send(CLOSE, payload);
  await c.closed();
  const closes = c.frames().filter((f) => f.opcode === CLOSE);
  assert.equal(closes.length, 1, 'one close frame comes back');
  return closeCodeOf(closes[0]);
}

test('received close codes that RFC 6455 forbids are answered with 1002', async () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    assert.equal(await closeAnswer(closePayload(code)), 1002, `code ${code}`);
  }
});

test('a close reason that is not UTF-8 or a one-byte close payload is answered with 1002', async () => {
  assert.equal(await closeAnswer(closePayload(1000, Buffer.from([0xff, 0xfe]))), 1002);
  assert.equal(await closeAnswer(closePayload(1000, Buffer.from([0xc3]))), 1002);
  assert.equal(await closeAnswer(Buffer.from([0x03])), 1002);
});

test('valid closes are echoed, an empty one is answered with 1000', async () => {
  assert.equal(await closeAnswer(Buffer.alloc(0)), 1000);
  assert.equal(await closeAnswer(closePayload(1000, 'bye é')), 1000);
  assert.equal(await closeAnswer(closePayload(1001)), 1001);
  assert.equal(await closeAnswer(closePayload(4321, 'app')), 4321);
});

test('the 426 for a bad upgrade declares exactly its body length', async () => {
  for (const opts of [{ version: '8' }, { key: 'too-short' }]) {
    const bytes = await rawExchange(server.port, upgradeRequest(server.port, opts));
    const text = bytes.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    assert.ok(end > 0, text);
    const head = text.slice(0, end);
    assert.match(head, /^HTTP\/1\.1 426 /);
    assert.match(head, /\r\nSec-WebSocket-Version: 13\r\n/i);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)[1]);
    const body = bytes.subarray(end + 4);
    assert.equal(length, body.length, 'Content-Length matches the body');
    assert.equal(JSON.parse(body.toString()).id, 'BAD_REQUEST');
  }
});

test('a client that does not read gets one pending pong, the latest, and stays open', async () => {
  const c = await rawGreeted();
  c.socket.pause();  // read nothing: pongs pile up in the kernel, then in the server
  const N = 100000;
  const payload = (i) => Buffer.from(`ping-${String(i).padStart(8, '0')}`.padEnd(120, '.'));
  for (let i = 0; i < N; i += 1000) {
    const batch = [];
    for (let k = i; k < i + 1000; k++) batch.push(Buffer.from([0x89, 0x80 | 120, 0, 0, 0, 0]), payload(k));
    c.socket.write(Buffer.concat(batch));
  }
  await sleep(500);
  c.socket.resume();
  const frames = await c.until((f) => {
    const pongs = f.filter((x) => x.opcode === PONG);
    return pongs.length > 0 && pongs.at(-1).payload.equals(payload(N - 1));
  }, 10000);
  const pongs = frames.filter((x) => x.opcode === PONG);
  assert.ok(pongs.length < N, `${pongs.length} pongs for ${N} pings: unsent ones were replaced`);
  assert.equal(frames.filter((x) => x.opcode === CLOSE).length, 0, 'not closed');
  c.sendEvent('requestRoomHistory', { roomId: 'beast' });
  await c.until((f) => f.some((x) => x.opcode === TEXT && x.payload.includes('serverRoomHistory')));
  c.socket.destroy();
});

test('malformed room ids are BAD_REQUEST in every event that carries one', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const bad = ['', 'x'.repeat(65), 'has space', 'ümlaut', 'a/b', 'x'.repeat(10000)];
  const events = (roomId) => [
    ['clientMessages', { roomId, messages: [{ content: 'x' }] }],
    ['requestRoomHistory', { roomId }],
    ['clientJoinRoom', { roomId }],
    ['clientLeaveRoom', { roomId }],
  ];
  for (const roomId of bad) {
    for (const [type, payload] of events(roomId)) {
      a.send(type, payload);
      const e = await a.next('serverError');
      assert.deepEqual([e.code, e.requestType], ['BAD_REQUEST', type], `${type} ${roomId.slice(0, 20)}`);
      assert.match(e.message, /roomId/);
    }
  }
  // The longest valid id is only unknown, and every allowed character passes the check.
  a.send('clientJoinRoom', { roomId: 'A-z_0.9'.padEnd(64, 'x') });
  assert.equal((await a.next('serverError')).code, 'UNKNOWN_ROOM');
  // A resume entry with a malformed id is refused alone; the other entries are answered.
  const beast = a.hello.rooms.find((r) => r.id === 'beast');
  a.send('clientResume', { rooms: [{ roomId: 'bad id', lastMessageId: '0-0' }, { roomId: beast.id, lastMessageId: '0-0' }] });
  const e = await a.next('serverError');
  assert.deepEqual([e.code, e.requestType], ['BAD_REQUEST', 'clientResume']);
  const answer = await a.next('serverRoomHistory', (p) => p.resume);
  assert.equal(answer.roomId, beast.id);
  await a.close();
});

test('room names are 1-64 characters and clientIds 1-64 characters', async () => {
  const a = await connect(server, await createUser(server.url));
  a.send('clientCreateRoom', { roomName: 'é'.repeat(65) });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  const name = `é${unique()}`.padEnd(64, 'ü');
  a.send('clientCreateRoom', { roomName: name });
  const created = await a.next('serverCreateRoom', (p) => p.roomName === name);
  for (const clientId of ['', 'c'.repeat(65)]) {
    a.send('clientMessages', { roomId: created.roomId, messages: [{ content: 'x', clientId }] });
    const e = await a.next('serverError');
    assert.deepEqual([e.code, e.requestType], ['BAD_REQUEST', 'clientMessages']);
  }
  a.send('clientMessages', { roomId: created.roomId, messages: [{ content: 'ok', clientId: 'é'.repeat(64) }] });
  await a.next('serverMessages', (p) => p.roomId === created.roomId);
  await a.close();
});

// Sends `n` events of one kind at once; resolves with the answers and RATE_LIMITED errors.
async function burst(conn, n, type, payload, answerType) {
  const before = conn.events.length;
  for (let i = 0; i < n; i++) conn.send(type, payload);
  const deadline = Date.now() + 5000;
  const tally = () => {
    const evs = conn.events.slice(before);
    return {
      answers: evs.filter((e) => e.type === answerType).length,
      limited: evs.filter((e) => e.type === 'serverError' && e.payload.code === 'RATE_LIMITED').map((e) => e.payload),
    };
  };
  while (tally().answers + tally().limited.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(tally())} of ${n}`);
    await sleep(20);
  }
  return tally();
}

test('other requests: 40 in a burst, then RATE_LIMITED with retryAfterMs; messages unaffected', async () => {
  const a = await connect(server, await createUser(server.url));
  const { answers, limited } = await burst(a, 60, 'requestRoomHistory', { roomId: 'beast' }, 'serverRoomHistory');
  assert.ok(answers >= 40 && answers <= 42, `${answers} answered`);
  assert.equal(answers + limited.length, 60);
  for (const e of limited) {
    assert.equal(e.requestType, 'requestRoomHistory');
    assert.ok(Number.isInteger(e.retryAfterMs) && e.retryAfterMs >= 1 && e.retryAfterMs <= 50, `retryAfterMs ${e.retryAfterMs}`);
  }
  // Join, leave, create and resume draw on the same bucket ...
  a.send('clientJoinRoom', { roomId: 'beast' });
  const e = await a.next('serverError', (p) => p.requestType === 'clientJoinRoom');
  assert.equal(e.code, 'RATE_LIMITED');
  // ... and the message bucket is separate.
  a.send('clientMessages', { roomId: 'beast', messages: [{ content: `still ${unique()}` }] });
  await a.next('serverMessages', (p) => p.roomId === 'beast');
  // After retryAfterMs the next request is served.
  await sleep(limited.at(-1).retryAfterMs + 60);
  a.send('requestRoomHistory', { roomId: 'beast' });
  await a.next('serverRoomHistory');
  await a.close();
});

test('typing and read marks stay outside the other-requests bucket; member pages count in it', async () => {
  const a = await connect(server, await createUser(server.url));
  for (let i = 0; i < 60; i++) {
    a.send('clientTyping', { roomId: 'beast' });
    a.send('clientMarkRead', { roomId: 'beast', lastMessageId: '0-0' });
  }
  // Still the whole burst of 40 for the counted requests, and no error for the 120 above.
  const { answers, limited } = await burst(a, 45, 'requestRoomMembers', { roomId: 'beast' }, 'serverRoomMembers');
  assert.ok(answers >= 40 && answers <= 42, `${answers} answered`);
  assert.ok(limited.length >= 3 && limited.every((e) => e.requestType === 'requestRoomMembers'));
  assert.ok(!a.events.some((e) => e.type === 'serverError' && e.payload.requestType !== 'requestRoomMembers'));
  await a.close();
});

test('messages: 100 per event at most, 100 in a burst, RATE_LIMITED carries retryAfterMs', async () => {
  const a = await connect(server, await createUser(server.url));
  a.send('clientCreateRoom', { roomName: `rate ${unique()}` });
  const room = (await a.next('serverCreateRoom')).roomId;
  const batch = (n, tag) => Array.from({ length: n }, (_, i) => ({ content: `${tag}${i}` }));
  a.send('clientMessages', { roomId: room, messages: batch(101, 'x') });
  assert.equal((await a.next('serverError')).code, 'BAD_REQUEST');
  a.send('clientMessages', { roomId: room, messages: batch(100, 'a') });
  a.send('clientMessages', { roomId: room, messages: batch(100, 'b') });
  const e = await a.next('serverError');
  assert.deepEqual([e.code, e.requestType], ['RATE_LIMITED', 'clientMessages']);
  assert.ok(e.retryAfterMs > 1500 && e.retryAfterMs <= 2000, `retryAfterMs ${e.retryAfterMs}`);
  const live = await a.waitLive(room, 100);
  await sleep(100);
  assert.equal(a.live(room).length, 100, 'the refused event was refused whole');
  assert.ok(live.every((m) => m.content.startsWith('a')));
  await a.close();
});

test('messages per event are configurable (limits.messages_per_event_max)', async () => {
  const s = await startServer({ env: { ROOMCAST_LIMITS_MESSAGES_PER_EVENT_MAX: '3' } });
  try {
    const a = await connect(s, await createUser(s.url));
    const batch = (n) => Array.from({ length: n }, (_, i) => ({ content: `m${i}` }));
    a.send('clientMessages', { roomId: 'beast', messages: batch(4) });
    const e = await a.next('serverError');
    assert.deepEqual([e.code, e.requestType, e.message], ['BAD_REQUEST', 'clientMessages', 'at most 3 messages per event']);
    a.send('clientMessages', { roomId: 'beast', messages: batch(3) });
    assert.equal((await a.next('serverMessages', (p) => p.roomId === 'beast')).messages.length, 3);
    await a.close();
  } finally {
    await s.stop();
  }
});

test('the per-connection buckets are configurable', async () => {
  const s = await startServer({ env: { ROOMCAST_LIMITS_REQUEST_BURST: '5', ROOMCAST_LIMITS_REQUEST_RATE_PER_SEC: '1' } });
  try {
    const a = await connect(s, await createUser(s.url));
    const { answers, limited } = await burst(a, 8, 'requestRoomHistory', { roomId: 'beast' }, 'serverRoomHistory');
    assert.equal(answers, 5);
    assert.ok(limited.every((e) => e.retryAfterMs > 900 && e.retryAfterMs <= 1000), JSON.stringify(limited));
    await a.close();
  } finally {
    await s.stop();
  }
});

test('clientResume: repeats ignored, rooms not joined get NOT_MEMBER, a repeat is answered again', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const ids = a.hello.rooms.map((r) => r.id);
  const entries = [...ids, ...ids, ids[0]].map((roomId) => ({ roomId, lastMessageId: '0-0' }));
  entries.push({ roomId: `not-mine-${unique()}`, lastMessageId: '0-0' });
  for (let round = 0; round < 2; round++) {
    const before = a.events.length;
    a.send('clientResume', { rooms: entries });
    const err = await a.next('serverError');
    assert.deepEqual([err.code, err.requestType], ['NOT_MEMBER', 'clientResume']);
    await sleep(200);
    const answers = a.events.slice(before).filter((e) => e.type === 'serverRoomHistory');
    assert.deepEqual(answers.map((e) => e.payload.roomId).sort(), [...ids].sort(), `round ${round}`);
    assert.ok(answers.every((e) => e.payload.resume === true));
    for (let i = 0; i < answers.length; i++) await a.next('serverRoomHistory');
  }
  await a.close();
});

test('room creation: 10 per user per minute, per user not per connection', async () => {
  const u = await createUser(server.url);
  const a = await connect(server, u);
  const b = await connect(server, u);
  for (let i = 0; i < 10; i++) {
    const name = `made ${i} ${unique()}`;
    (i % 2 ? a : b).send('clientCreateRoom', { roomName: name });
    await a.next('serverCreateRoom', (p) => p.roomName === name);
  }
  a.send('clientCreateRoom', { roomName: 'one too many' });
  const e = await a.next('serverError');
  assert.deepEqual([e.code, e.requestType], ['RATE_LIMITED', 'clientCreateRoom']);
  assert.ok(e.retryAfterMs > 50000 && e.retryAfterMs <= 60000, `retryAfterMs ${e.retryAfterMs}`);
  b.send('clientCreateRoom', { roomName: 'from the other tab' });
  assert.equal((await b.next('serverError')).code, 'RATE_LIMITED');
  // Someone else still creates rooms.
  const other = await connect(server, await createUser(server.url));
  other.send('clientCreateRoom', { roomName: `theirs ${unique()}` });
  await other.next('serverCreateRoom');
  for (const c of [a, b, other]) await c.close();
});

test('rooms per user: created + joined + defaults capped with LIMIT_REACHED', async () => {
  // 16 rooms at most; a creation rate of 0 lifts the per-minute limit (as the bench does).
  const s = await startServer({
    env: { ROOMCAST_LIMITS_ROOMS_PER_USER_MAX: '16', ROOMCAST_LIMITS_ROOM_CREATIONS_PER_MINUTE: '0' },
  });
  try {
    const a = await connect(s, await createUser(s.url));
    const owner = await connect(s, await createUser(s.url));
    assert.equal(a.hello.rooms.length, 4, 'four default rooms');
    owner.send('clientCreateRoom', { roomName: 'elsewhere' });
    const elsewhere = (await owner.next('serverCreateRoom')).roomId;
    const mine = [];
    for (let i = 0; i < 12; i++) {
      a.send('clientCreateRoom', { roomName: `mine ${i}` });
      mine.push((await a.next('serverCreateRoom', (p) => p.roomName === `mine ${i}`)).roomId);
    }
    a.send('clientCreateRoom', { roomName: 'seventeenth' });
    let e = await a.next('serverError');
    assert.deepEqual([e.code, e.requestType], ['LIMIT_REACHED', 'clientCreateRoom']);
    a.send('clientJoinRoom', { roomId: elsewhere });
    e = await a.next('serverError');
    assert.deepEqual([e.code, e.requestType], ['LIMIT_REACHED', 'clientJoinRoom']);
    a.send('clientJoinRoom', { roomId: mine[0] });  // already in: no new room
    await a.next('serverJoinedRoom');
    a.send('clientLeaveRoom', { roomId: 'beast' });
    await a.next('serverLeftRoom');
    a.send('clientJoinRoom', { roomId: elsewhere });
    assert.equal((await a.next('serverJoinedRoom', (p) => p.room.id === elsewhere)).room.id, elsewhere);
    await a.close();
    await owner.close();
  } finally {
    await s.stop();
  }
});

test('connections per user: 100, then the oldest is closed with 4008 and the rest stay', async () => {
  const u = await createUser(server.url);
  const conns = [];
  for (let i = 0; i < 100; i++) conns.push(await connect(server, u));
  const other = await connect(server, await createUser(server.url));
  const newest = await connect(server, u);
  const closed = await conns[0].closed;
  assert.equal(closed.code, 4008);
  await sleep(200);
  for (const c of [...conns.slice(1), newest, other]) assert.equal(c.ws.readyState, 1, 'still open');
  newest.send('clientMessages', { roomId: 'beast', messages: [{ content: `after ${unique()}` }] });
  await conns[1].next('serverMessages', (p) => p.roomId === 'beast');
  for (const c of [...conns.slice(1), newest, other]) c.ws.terminate();
});
