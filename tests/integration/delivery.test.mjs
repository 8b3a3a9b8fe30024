// Delivery guarantees of PROTOCOL.md (revision 3) over real sockets: clientId per sender and
// room, no merging of two events of one sender, and history that cannot lock a user out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { suiteServer } from '../lib/server.mjs';
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
