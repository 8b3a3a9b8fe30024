// Read positions and member lists through the cluster (nginx → comets → Logic → MySQL):
// requestRoomMembers pages by user id for members only, clientMarkRead is stored forward only
// and clamped, a new connection's hello carries lastReadId/unread, and posting moves the
// sender's own position (Job). Runs its own small cluster (2 comets, 1 logic, 1 job).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { createUser, Conn, unique, sleep } from '../lib/client.mjs';

let cluster;
const opened = [];

before(async () => {
  cluster = await startCluster({
    comets: 2, logics: 1, jobs: 1, env: { ROOMCAST_PRESENCE_MEMBERS_PAGE: '2' },
  });
});
after(async () => { if (cluster) await cluster.down(); });

async function open(user, wsUrl = cluster.wsUrl) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  opened.push(c);
  c.hello = await c.next('hello', () => true, 10000);
  return c;
}

const roomOf = (conn, roomId) => conn.hello.rooms.find((r) => r.id === roomId);
const readState = (conn, roomId) => [roomOf(conn, roomId).lastReadId, roomOf(conn, roomId).unread];

// The connection handles its events in order: an answered request means the marks before it
// were stored.
async function barrier(conn, roomId) {
  conn.send('requestRoomMembers', { roomId });
  await conn.next('serverRoomMembers', (p) => p.roomId === roomId, 10000);
}

test('members, read positions and own messages through the cluster', async () => {
  const users = [];
  for (const p of ['rsa', 'rsb', 'rsc', 'rso']) users.push(await createUser(cluster.url, p));
  // a and c on different comets (a's online state is known to c's comet from reports only),
  // the others through nginx.
  const a = await open(users[0], await cluster.cometWs('comet-2'));
  const c = await open(users[2], await cluster.cometWs('comet-1'));
  const [b, o] = await Promise.all([open(users[1]), open(users[3])]);
  const name = `room ${unique()}`;
  a.send('clientCreateRoom', { roomName: name });
  const room = (await a.next('serverCreateRoom', (p) => p.roomName === name, 30000)).roomId;
  for (const x of [b, c]) {
    x.send('clientJoinRoom', { roomId: room });
    const joined = await x.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
    assert.deepEqual([joined.room.lastReadId, joined.room.unread], ['0-0', 0]);
  }

  // Member list: 2 per page, by user id, `next` absent on the last page; members only.
  // Members on the other comet are known from its reports, one presence window late.
  let first;
  for (const deadline = Date.now() + 5000; ;) {
    c.send('requestRoomMembers', { roomId: room });
    first = await c.next('serverRoomMembers', () => true, 10000);
    if (first.members.every((m) => m.online) || Date.now() > deadline) break;
    await sleep(200);
  }
  assert.equal(first.members.length, 2);
  assert.equal(typeof first.next, 'string');
  c.send('requestRoomMembers', { roomId: room, after: first.next });
  const second = await c.next('serverRoomMembers', () => true, 10000);
  assert.equal(second.next, undefined);
  const all = [...first.members, ...second.members];
  assert.deepEqual(all.map((m) => m.user.id), [a, b, c].map((x) => x.hello.me.id).sort((x, y) => x - y));
  assert.ok(all.every((m) => m.online === true));
  o.send('requestRoomMembers', { roomId: room });
  assert.equal((await o.next('serverError', () => true, 10000)).code, 'NOT_MEMBER');

  // Posting: the sender has read its own messages, the others have not.
  const batch = [1, 2, 3, 4, 5].map((i) => ({ content: `m${i}`, clientId: `rs-${i}` }));
  a.send('clientMessages', { roomId: room, messages: batch });
  await a.waitLive(room, 5, 15000);
  await b.waitLive(room, 5, 15000);
  assert.deepEqual(readState(await open(users[0]), room), ['5-0', 0]);
  assert.deepEqual(readState(await open(users[1]), room), ['0-0', 5]);

  // Forward only: 3, then the older 1, leaves 3; past the latest is clamped to it.
  b.send('clientMarkRead', { roomId: room, lastMessageId: '3-0' });
  b.send('clientMarkRead', { roomId: room, lastMessageId: '1-0' });
  await barrier(b, room);
  const b3 = await open(users[1]);
  assert.deepEqual(readState(b3, room), ['3-0', 2]);
  b3.send('clientMarkRead', { roomId: room, lastMessageId: '99-0' });
  await barrier(b3, room);
  assert.deepEqual(readState(await open(users[1]), room), ['5-0', 0]);
  b.send('clientMarkRead', { roomId: room, lastMessageId: 'five' });
  assert.equal((await b.next('serverError', () => true, 10000)).code, 'BAD_REQUEST');
  await Promise.all(opened.map((x) => x.close()));
});
