// Delivery guarantees of docs/protocol.md (revision 3) over real sockets: clientId per sender and
// room, no merging of two events of one sender, and history that cannot lock a user out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, suiteServer } from '../lib/server.mjs';
import { createUser, connect, seqOf, unique, sleep } from '../lib/client.mjs';

let server;
before(async () => { server = await suiteServer(); });
after(async () => { await server.stop(); });

async function newRoom(conn, name = `room ${unique()}`) {
  conn.send('clientCreateRoom', { roomName: name });
  const ev = await conn.next('serverCreateRoom', (p) => p.roomName === name);
  return ev.roomId;
}

async function historyOf(conn, roomId) {
  conn.send('requestRoomHistory', { roomId });
  return conn.next('serverRoomHistory', (p) => p.roomId === roomId);
}

test('a clientId is per sender and room: the same id in another room is a new message', async () => {
  const a = await connect(server, await createUser(server.url));
  const b = await connect(server, await createUser(server.url));
  const roomA = await newRoom(a);
  const roomB = await newRoom(a);
  for (const room of [roomA, roomB]) {
    b.send('clientJoinRoom', { roomId: room });
    await b.next('serverJoinedRoom', (p) => p.room.id === room);
  }
  const clientId = `K-${unique()}`;
  a.send('clientMessages', { roomId: roomA, messages: [{ content: 'in A', clientId }] });
  await b.waitLive(roomA, 1);
  a.send('clientMessages', { roomId: roomB, messages: [{ content: 'in B', clientId }] });
  await b.waitLive(roomB, 1);
  // A repeat in the same room creates nothing and pushes nothing anywhere.
  a.send('clientMessages', { roomId: roomB, messages: [{ content: 'in B', clientId }] });
  a.send('clientMessages', { roomId: roomB, messages: [{ content: 'after' }] });
  for (const c of [a, b]) {
    await c.waitLive(roomB, 2);
    await sleep(100);
    assert.deepEqual(c.live(roomB).map((m) => [m.id, m.content]), [['1-0', 'in B'], ['2-0', 'after']]);
    assert.deepEqual(c.live(roomA).map((m) => [m.id, m.content]), [['1-0', 'in A']]);
  }
  assert.equal(b.live(roomB)[0].clientId, clientId);
  assert.deepEqual((await historyOf(a, roomB)).messages.map((m) => m.content), ['after', 'in B']);
  assert.deepEqual((await historyOf(a, roomA)).messages.map((m) => m.content), ['in A']);
  await a.close();
  await b.close();
});

test('two clientMessages events of one sender come back as two serverMessages', async () => {
  const a = await connect(server, await createUser(server.url));
  const b = await connect(server, await createUser(server.url));
  const room = await newRoom(a);
  b.send('clientJoinRoom', { roomId: room });
  await b.next('serverJoinedRoom');
  // Sent in one go: they reach the queue within its batch window.
  const frames = [];
  for (let i = 0; i < 5; i++) {
    frames.push(JSON.stringify({ type: 'clientMessages', payload: { roomId: room, messages: [{ content: `e${i}a` }, { content: `e${i}b` }] } }));
  }
  for (const f of frames) a.ws.send(f);
  for (const c of [a, b]) {
    await c.waitLive(room, 10);
    const events = c.events.filter((e) => e.type === 'serverMessages' && e.payload.roomId === room);
    assert.deepEqual(events.map((e) => e.payload.messages.map((m) => m.content)),
      [0, 1, 2, 3, 4].map((i) => [`e${i}a`, `e${i}b`]));
    assert.deepEqual(c.live(room).map((m) => seqOf(m.id)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }
  await a.close();
  await b.close();
});

const BIG = 'x'.repeat(8000);
const PAGE_BYTES = 256 * 1024;

// Posts `n` messages of 8 KB into `roomId`, one per event, spread over `conns` (each within its
// burst), and waits until the first connection saw them all.
async function fill(conns, roomId, n, tag) {
  for (let i = 0; i < n; i++) {
    conns[i % conns.length].send('clientMessages', { roomId, messages: [{ content: `${tag}${i} ${BIG}` }] });
  }
  await conns[0].waitLive(roomId, n, 30000);
}

// Bytes of a page's messages as serialised.
const pageBytes = (messages) => JSON.stringify(messages).length;

test('full default rooms still let a new connection in: pages are bounded by bytes', async () => {
  const posters = [];
  for (let i = 0; i < 4; i++) posters.push(await connect(server, await createUser(server.url)));
  const rooms = posters[0].hello.rooms.map((r) => r.id);
  await Promise.all(rooms.map((room, i) => fill([posters[i % posters.length]], room, 60, `${room}-`)));
  const fresh = await connect(server, await createUser(server.url));
  assert.deepEqual(fresh.hello.rooms.map((r) => r.id), rooms);
  for (const room of fresh.hello.rooms) {
    assert.ok(room.messages.length >= 1 && room.messages.length < 60, `${room.id}: ${room.messages.length}`);
    assert.ok(pageBytes(room.messages) <= PAGE_BYTES, `${room.id}: ${pageBytes(room.messages)} bytes`);
    assert.equal(room.hasMoreMessages, true);
    const seqs = room.messages.map((m) => seqOf(m.id));
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] - i), 'newest first, contiguous');
  }
  // A history page is cut the same way, and paging on from it loses nothing.
  const room = rooms[0];
  const page = await historyOf(fresh, room);
  assert.ok(pageBytes(page.messages) <= PAGE_BYTES && page.hasMoreMessages);
  fresh.send('requestRoomHistory', { roomId: room, firstMessageId: page.messages.at(-1).id, count: 100 });
  const older = await fresh.next('serverRoomHistory', (p) => p.roomId === room);
  assert.equal(seqOf(older.messages[0].id), seqOf(page.messages.at(-1).id) - 1);
  fresh.send('clientMessages', { roomId: room, messages: [{ content: 'still here' }] });
  await fresh.next('serverMessages', (p) => p.messages.some((m) => m.content === 'still here'));
  for (const c of [...posters, fresh]) await c.close();
});

test('a resume answer of 500 messages of 8 KB fits: the newest 256 KiB, then hasMoreMessages', async () => {
  // Six connections receive 4.4 MB each: a roomier outbound queue keeps a slow test host from
  // closing them with 1013 (the resume answer is bounded either way).
  const srv = process.env.ROOMCAST_URL ? server
    : await startServer({ env: { ROOMCAST_LIMITS_OUTBOUND_MAX_BYTES: String(64 << 20) } });
  const user = await createUser(srv.url);
  const first = await connect(srv, user);
  const room = await newRoom(first);
  const conns = [first];
  for (let i = 0; i < 5; i++) conns.push(await connect(srv, user));
  await fill(conns, room, 550, 'r');
  const again = await connect(srv, user);
  const hello = again.hello.rooms.find((r) => r.id === room);
  assert.equal(hello.hasMoreMessages, true);
  const oldest = seqOf(hello.messages.at(-1).id);
  again.send('clientResume', { rooms: [{ roomId: room, lastMessageId: '0-0' }] });
  const answer = await again.next('serverRoomHistory', (p) => p.roomId === room && p.resume);
  assert.ok(answer.messages.length >= 1, 'some messages');
  assert.ok(pageBytes(answer.messages) <= PAGE_BYTES, `${pageBytes(answer.messages)} bytes`);
  assert.equal(answer.hasMoreMessages, true);
  assert.equal(seqOf(answer.messages[0].id), oldest - 1, 'contiguous with the hello page');
  again.send('clientMessages', { roomId: room, messages: [{ content: 'after resume' }] });
  await again.next('serverMessages', (p) => p.messages.some((m) => m.content === 'after resume'));
  for (const c of [...conns, again]) await c.close();
  if (srv !== server) await srv.stop();
});
