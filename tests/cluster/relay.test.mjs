// Notices across comets (comet → Logic → Kafka → Job → the other comets): typing, read state
// and named presence changes reach connections on another comet exactly as on one server.
// Every client is pinned to one comet; the last test kills comet-2 (its users are named "left"
// when it is swept). Runs its own small cluster (2 comets, 1 logic, 1 job).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { createUser, Conn, unique, sleep } from '../lib/client.mjs';

const GRACE = 1000;
const WINDOW = 300;
let cluster;
const opened = [];

before(async () => {
  cluster = await startCluster({
    comets: 2, logics: 1, jobs: 1,
    env: { ROOMCAST_PRESENCE_GRACE_MS: String(GRACE), ROOMCAST_PRESENCE_WINDOW_MS: String(WINDOW) },
  });
});
after(async () => {
  await Promise.all(opened.map((c) => c.close().catch(() => {})));
  if (cluster) await cluster.down();
});

async function open(cometId, user) {
  const url = await cluster.cometWs(cometId);
  const c = await Conn.open(url, { cookie: user.cookie, origin: `http://${new URL(url).host}` });
  opened.push(c);
  c.hello = await c.next('hello', () => true, 10000);
  return c;
}

// A room created by `owner`'s connection, joined by the others' connections.
async function roomWith(owner, ...joiners) {
  const name = `room ${unique()}`;
  owner.send('clientCreateRoom', { roomName: name });
  const room = (await owner.next('serverCreateRoom', (p) => p.roomName === name, 30000)).roomId;
  for (const c of joiners) {
    c.send('clientJoinRoom', { roomId: room });
    await c.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
  }
  return room;
}

const typingBy = (conn, room, userId) => conn.events.filter((e) => e.type === 'serverTyping'
  && e.payload.roomId === room && e.payload.user.id === userId);

test('typing on one comet reaches the members on the other, never the typer', async () => {
  const [ua, ub, uc] = await Promise.all(['ta', 'tb', 'tc'].map((p) => createUser(cluster.url, p)));
  const a1 = await open('comet-1', ua);
  const [b2, c1] = await Promise.all([open('comet-2', ub), open('comet-1', uc)]);
  const room = await roomWith(a1, b2, c1);
  const a2 = await open('comet-2', ua);  // the typer's own connection on the other comet
  const [aId, cId] = [a1.hello.me.id, c1.hello.me.id];

  a1.send('clientTyping', { roomId: room });
  const got = await b2.next('serverTyping', (p) => p.roomId === room, 10000);
  assert.deepEqual(got, { roomId: room, user: { id: aId, username: ua.username } });
  await c1.next('serverTyping', (p) => p.roomId === room && p.user.id === aId, 10000);

  // c's typing takes the same way (one room: one partition, in order) after a's: once a2 has
  // it, a's own typing would have arrived before.
  c1.send('clientTyping', { roomId: room });
  await a2.next('serverTyping', (p) => p.roomId === room && p.user.id === cId, 10000);
  assert.equal(typingBy(a2, room, aId).length, 0);
  assert.equal(typingBy(a1, room, aId).length, 0);

  // Throttled as on one server: a second clientTyping within 2 s is dropped.
  a1.send('clientTyping', { roomId: room });
  c1.send('clientTyping', { roomId: room });  // also throttled: nothing to wait for
  await sleep(500);
  assert.equal(typingBy(b2, room, aId).length, 1);
});

test('a mark on one comet reaches the same user on the other as serverReadState', async () => {
  const [ua, ub] = await Promise.all(['ra', 'rb'].map((p) => createUser(cluster.url, p)));
  const a1 = await open('comet-1', ua);
  const b1 = await open('comet-1', ub);
  const room = await roomWith(b1, a1);
  const a2 = await open('comet-2', ua);
  const batch = [1, 2, 3, 4, 5].map((i) => ({ content: `m${i}`, clientId: `rr-${i}` }));
  b1.send('clientMessages', { roomId: room, messages: batch });
  await a1.waitLive(room, 5, 15000);
  await a2.waitLive(room, 5, 15000);

  a1.send('clientMarkRead', { roomId: room, lastMessageId: '3-0' });
  const state = await a2.next('serverReadState', (p) => p.roomId === room, 10000);
  assert.deepEqual(state, { roomId: room, lastReadId: '3-0', unread: 2 });
  // The other user is not told, and the marking connection is answered by nothing.
  await sleep(500);
  const states = (c) => c.events.filter((e) => e.type === 'serverReadState');
  assert.equal(states(a1).length, 0);
  assert.equal(states(b1).length, 0);
  assert.equal(states(a2).length, 1);
});

const named = (conn, room, key, userId) => conn.events.filter((e) => e.type === 'serverPresence'
  && e.payload.roomId === room && e.payload[key].some((u) => u.id === userId));

test('members on the other comet see who came online and who left by name', async () => {
  const [uo, ux] = await Promise.all(['po', 'px'].map((p) => createUser(cluster.url, p)));
  const o2 = await open('comet-2', uo);
  const x0 = await open('comet-1', ux);
  const room = await roomWith(o2, x0);
  const xId = x0.hello.me.id;
  await x0.close();
  await o2.next('serverPresence', (p) => p.roomId === room && p.left.some((u) => u.id === xId),
    GRACE + 5000);

  const x1 = await open('comet-1', ux);
  const joined = await o2.next('serverPresence',
    (p) => p.roomId === room && p.joined.some((u) => u.id === xId), 10000);
  assert.deepEqual(joined.joined, [{ id: xId, username: ux.username }]);
  const closedAt = Date.now();
  await x1.close();
  const left = await o2.next('serverPresence',
    (p) => p.roomId === room && p.left.some((u) => u.id === xId), GRACE + 5000);
  assert.deepEqual(left.left, [{ id: xId, username: ux.username }]);
  assert.ok(Date.now() - closedAt >= GRACE, 'not before the grace');
});

test('a user online on both comets who closes one is not "left" anywhere', async () => {
  const [u1, u2, ux] = await Promise.all(['pp', 'pq', 'py'].map((p) => createUser(cluster.url, p)));
  const o1 = await open('comet-1', u1);
  const o2 = await open('comet-2', u2);
  const x1 = await open('comet-1', ux);
  const room = await roomWith(o1, o2, x1);
  const xId = x1.hello.me.id;
  const x2 = await open('comet-2', ux);
  await x1.close();
  await sleep(GRACE + 3 * WINDOW + 1500);
  assert.equal(named(o1, room, 'left', xId).length, 0);
  assert.equal(named(o2, room, 'left', xId).length, 0);

  await x2.close();
  for (const o of [o1, o2])
    await o.next('serverPresence', (p) => p.roomId === room && p.left.some((u) => u.id === xId),
      GRACE + 5000);
});

// Last: it kills comet-2.
test('the users of a comet killed with -9 go "left" by name when it is swept', async () => {
  const TTL = 3000;  // the cluster's registry TTL (local-cluster.sh default)
  const [uo, ux] = await Promise.all(['ko', 'kx'].map((p) => createUser(cluster.url, p)));
  const o1 = await open('comet-1', uo);
  const x2 = await open('comet-2', ux);
  const room = await roomWith(o1, x2);
  const xId = x2.hello.me.id;
  await o1.next('serverPresence', (p) => p.roomId === room && p.online === 2, 10000);
  const killedAt = Date.now();
  await cluster.kill('comet-2');
  const left = await o1.next('serverPresence',
    (p) => p.roomId === room && p.left.some((u) => u.id === xId), TTL + GRACE + 5000);
  assert.deepEqual(left.left, [{ id: xId, username: ux.username }]);
  assert.equal(left.online, 1);
  const after = Date.now() - killedAt;
  assert.ok(after >= TTL - 400, `named left ${after} ms after kill -9: before the TTL`);
});
