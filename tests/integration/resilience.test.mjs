// Restarts, reconnects and limits: each test starts its own standalone server so it can
// restart it or give it small limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { api, createUser, connect, Conn, seqOf, sleep, unique } from '../lib/client.mjs';

const skipExternal = { skip: process.env.ROOMCAST_URL ? 'needs its own server' : false };

async function newRoom(conn) {
  const name = `room ${unique()}`;
  conn.send('clientCreateRoom', { roomName: name });
  return (await conn.next('serverCreateRoom', (p) => p.roomName === name)).roomId;
}

// Posts n messages from one connection, pacing below the rate limit; returns their contents.
async function post(conn, room, n, prefix) {
  const sent = [];
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 10); k++) batch.push({ content: `${prefix}${k}`, clientId: `${prefix}${k}` });
    conn.send('clientMessages', { roomId: room, messages: batch });
    sent.push(...batch.map((m) => m.content));
    if (i % 80 === 70) await sleep(1000);  // stay under 100 per burst
  }
  return sent;
}

test('a restart keeps accounts, sessions, rooms and history', skipExternal, async () => {
  let server = await startServer();
  try {
    const u = await createUser(server.url);
    const a = await connect(server, u);
    const room = await newRoom(a);
    await post(a, room, 5, 'before-');
    await a.waitLive(room, 5);
    await a.close();
    server = await server.restart();
    const again = await connect(server, u);  // same cookie: the session survived
    const r = again.hello.rooms.find((x) => x.id === room);
    assert.ok(r, 'the created room is still the user\'s');
    assert.deepEqual(r.messages.map((m) => m.content), ['before-4', 'before-3', 'before-2', 'before-1', 'before-0']);
    // Sequence numbers continue after the restart, with no hole.
    await post(again, room, 1, 'after-');
    const live = await again.waitLive(room, 1);
    assert.equal(live[0].id, '6-0');
    const login = await api(server.url, '/api/login', { body: { email: u.email, password: u.password } });
    assert.equal(login.status, 204);
    await again.close();
  } finally {
    await server.stop();
  }
});

test('clientResume after a reconnect delivers exactly the missed messages', skipExternal, async () => {
  const server = await startServer();
  try {
    const ua = await createUser(server.url, 'reader');
    const ub = await createUser(server.url, 'writer');
    let a = await connect(server, ua);
    const b = await connect(server, ub);
    const room = await newRoom(a);
    const quiet = await newRoom(a);  // a room with nothing missed
    b.send('clientJoinRoom', { roomId: room });
    await b.next('serverJoinedRoom');
    await post(b, room, 10, 'seen-');
    const seen = await a.waitLive(room, 10);
    const lastSeen = seen.at(-1).id;
    await a.close();

    const missed = await post(b, room, 130, 'missed-');  // more than one page (50)
    await b.waitLive(room, 140);

    a = await connect(server, ua);
    const page = a.hello.rooms.find((r) => r.id === room);
    assert.equal(page.messages.length, 50);
    assert.equal(page.hasMoreMessages, true);
    a.send('clientResume', { rooms: [
      { roomId: room, lastMessageId: lastSeen },
      { roomId: quiet, lastMessageId: '0-0' },
      { roomId: room, lastMessageId: 'garbage' },
    ] });
    const resumed = await a.next('serverRoomHistory', (p) => p.roomId === room);
    assert.equal(resumed.resume, true);
    assert.equal(resumed.hasMoreMessages, false);
    const quietAnswer = await a.next('serverRoomHistory', (p) => p.roomId === quiet);
    assert.deepEqual(quietAnswer.messages, []);
    // The repeated entry of `room` was ignored; a malformed id is refused for its room.
    a.send('clientResume', { rooms: [{ roomId: quiet, lastMessageId: 'garbage' }] });
    const err = await a.next('serverError');
    assert.deepEqual([err.code, err.requestType], ['BAD_REQUEST', 'clientResume']);
    assert.equal(a.events.filter((e) => e.type === 'serverRoomHistory').length, 2);
    // hello page + resume answer = every missed message exactly once, in order.
    const got = [...page.messages, ...resumed.messages].map((m) => m.content).reverse();
    assert.deepEqual(got, missed);
    // The live stream continues right after the page.
    await post(b, room, 1, 'live-');
    const live = await a.waitLive(room, 1);
    assert.equal(seqOf(live[0].id), seqOf(page.messages[0].id) + 1);

    // A replay larger than the limit gives the newest part and hasMoreMessages.
    const c = await connect(server, ua);
    c.send('clientResume', { rooms: [{ roomId: room, lastMessageId: '0-0' }] });
    const all = await c.next('serverRoomHistory', (p) => p.resume);
    assert.equal(all.messages.length, 141 - 50);
    assert.equal(all.messages[0].id, `${seqOf(c.hello.rooms.find((r) => r.id === room).messages.at(-1).id) - 1}-0`);
    for (const x of [a, b, c]) await x.close();
  } finally {
    await server.stop();
  }
});

test('the first page and the live stream are contiguous while messages flow', skipExternal, async () => {
  const server = await startServer();
  try {
    const writer = await connect(server, await createUser(server.url));
    const room = writer.hello.rooms[0].id;
    const reader = await createUser(server.url);
    let stop = false;
    const writing = (async () => {
      for (let i = 0; !stop; i++) {
        writer.send('clientMessages', { roomId: room, messages: [{ content: `flow-${i}` }] });
        await sleep(25);
      }
    })();
    // Connect repeatedly while messages flow: page + live must have no gap and no repeat.
    for (let k = 0; k < 8; k++) {
      const c = await connect(server, reader);
      await sleep(150);
      const page = c.hello.rooms.find((r) => r.id === room).messages.map((m) => seqOf(m.id)).reverse();
      const live = c.live(room).map((m) => seqOf(m.id));
      const all = [...page, ...live];
      for (let i = 1; i < all.length; i++) assert.equal(all[i], all[i - 1] + 1, `gap or repeat in ${all}`);
      await c.close();
    }
    stop = true;
    await writing;
    await writer.close();
  } finally {
    await server.stop();
  }
});

test('a connection that does not read is closed with 1013 and others are unaffected', skipExternal, async () => {
  const token = `t-${unique()}`;
  const server = await startServer({
    env: { ROOMCAST_ADMIN_TOKEN: token },
    extraArgs: ['--outbound-max-events', '50', '--outbound-max-bytes', '262144'],
  });
  try {
    const u = await createUser(server.url);
    const slow = await connect(server, u);
    const fast = await connect(server, await createUser(server.url));
    slow.ws._socket.pause();  // stop reading: the kernel buffers fill, then the server queue
    const body = 'z'.repeat(60000);
    for (let i = 0; i < 200; i++) {
      const r = await api(server.url, '/api/push/broadcast', { token, body: { op: 1, body } });
      assert.equal(r.status, 200);
    }
    await fast.next('serverPush', () => true, 10000);
    await sleep(500);
    slow.ws._socket.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 1013);
    const n = fast.events.filter((e) => e.type === 'serverPush').length;
    assert.ok(n > 0, 'the reading client got its pushes');
    await fast.close();
  } finally {
    await server.stop();
  }
});

test('pings keep a live client open; a silent one is closed with 1001', skipExternal, async () => {
  const server = await startServer({ extraArgs: ['--ping-interval-ms', '200', '--idle-timeout-ms', '1000'] });
  try {
    const u = await createUser(server.url);
    const alive = await connect(server, u);
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    const silent = await connect(server, u);
    silent.ws._socket.pause();  // reads nothing, answers no ping
    await sleep(1800);
    assert.ok(pings >= 3, `server pinged ${pings} times`);
    assert.equal(alive.ws.readyState, 1, 'a client that answers pings stays open');
    silent.ws._socket.resume();
    assert.equal((await silent.closed).code, 1001);
    await alive.close();
  } finally {
    await server.stop();
  }
});
