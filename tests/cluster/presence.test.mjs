// Presence across comets (discovery/cluster_presence): a room's online count sums the comets'
// own reports, and a comet killed with -9 is swept: its users go offline within the registry
// TTL plus the grace. The presence topic (roomcast.presence, read with the example consumer):
// one online and one offline record per real transition with growing epochs, nothing for a
// reload, a second comet's connection or a comet frozen past the TTL that comes back.
// Runs its own small cluster (2 comets, 1 logic, 1 job).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { api, createUser, Conn, unique, sleep } from '../lib/client.mjs';
import { PresenceTopicReader } from '../lib/presence-topic.mjs';
import { get, sample } from '../lib/ops.mjs';

const GRACE = 2000;
const TTL = 3000; // the cluster's registry TTL (local-cluster.sh default)
const WINDOW = 300; // the report period of the comets
let cluster;
let topic;

before(async () => {
  cluster = await startCluster({
    comets: 2, logics: 1, jobs: 1,
    env: { ROOMCAST_PRESENCE_GRACE_MS: String(GRACE), ROOMCAST_PRESENCE_WINDOW_MS: String(WINDOW) },
  });
  topic = new PresenceTopicReader(cluster);
});
after(async () => {
  topic?.stop();
  if (cluster) await cluster.down();
});

async function open(wsUrl, user) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  c.hello = await c.next('hello');
  return c;
}

// Long enough for a grace to end and its report to reach the topic.
const QUIET = GRACE + 3 * WINDOW + 1500;

test('topic: one online record when a user connects, one offline with a higher epoch after the grace', async () => {
  const u = await createUser(cluster.url, 'tp');
  const c = await open(await cluster.cometWs('comet-1'), u);
  const id = c.hello.me.id;
  const online = await topic.next(id, 0, (r) => r.online);
  assert.equal(online.applied, true);
  assert.ok(Number.isInteger(online.epoch) && online.at > 0, JSON.stringify(online));
  await c.close();
  const offline = await topic.next(id, 1, () => true, QUIET + 3000);
  assert.equal(offline.online, false);
  assert.ok(offline.epoch > online.epoch, `${offline.epoch} > ${online.epoch}`);
  assert.ok(offline.at - online.at >= GRACE - 100, 'not before the grace ended');
  await sleep(1000);
  assert.equal(topic.of(id).length, 2, JSON.stringify(topic.of(id)));
});

test('topic: a reload within the grace produces nothing', async () => {
  const u = await createUser(cluster.url, 'tr');
  const c = await open(await cluster.cometWs('comet-1'), u);
  const id = c.hello.me.id;
  await topic.next(id, 0, (r) => r.online);
  await c.close();
  await sleep(200);
  const again = await open(await cluster.cometWs('comet-2'), u); // the reload lands elsewhere
  await sleep(QUIET);
  assert.equal(topic.of(id).length, 1, JSON.stringify(topic.of(id)));
  await again.close();
  await topic.next(id, 1, (r) => !r.online, QUIET + 3000);
});

test('topic: the same user on two comets closing one produces nothing', async () => {
  const u = await createUser(cluster.url, 'tt');
  const one = await open(await cluster.cometWs('comet-1'), u);
  const two = await open(await cluster.cometWs('comet-2'), u);
  const id = one.hello.me.id;
  await topic.next(id, 0, (r) => r.online);
  await two.close();
  await sleep(QUIET);
  assert.equal(topic.of(id).length, 1, JSON.stringify(topic.of(id)));
  await one.close();
  await topic.next(id, 1, (r) => !r.online, QUIET + 3000);
});

test('topic: a comet frozen past the TTL that comes back before TTL + grace sends no offline', async () => {
  const u = await createUser(cluster.url, 'tf');
  const c = await open(await cluster.cometWs('comet-2'), u);
  const id = c.hello.me.id;
  await topic.next(id, 0, (r) => r.online);
  await sleep(WINDOW * 2); // a report after the connect: the freeze starts from a fresh one
  const pid = Number((await cluster.node('comet-2')).pid);
  process.kill(pid, 'SIGSTOP');
  await sleep(TTL + 500);
  // Frozen past the TTL indeed: its last report is older than that (its registry entry is gone).
  const last = Number(await cluster.redis('ZSCORE', 'rc:presence:comets', 'comet-2'));
  process.kill(pid, 'SIGCONT');
  assert.ok(Date.now() - last > TTL, `silent for ${Date.now() - last} ms`);
  await sleep(TTL + GRACE + 2000);
  assert.equal(topic.of(id).length, 1, `no false offline: ${JSON.stringify(topic.of(id))}`);
  const token = cluster.adminToken();
  const state = await api(cluster.url, `/api/presence/users?ids=${id}`, { method: 'GET', token });
  assert.deepEqual(state.json, { users: [{ id, online: true, connections: 1 }] });
  await c.close();
  await topic.next(id, 1, (r) => !r.online, QUIET + 3000);
});

test('topic: a comet frozen past TTL + grace is swept (offline), then re-announces its user (online, higher epoch)', async () => {
  const u = await createUser(cluster.url, 'ts');
  const c = await open(await cluster.cometWs('comet-2'), u);
  const id = c.hello.me.id;
  const online = await topic.next(id, 0, (r) => r.online);
  await sleep(WINDOW * 2);
  const pid = Number((await cluster.node('comet-2')).pid);
  process.kill(pid, 'SIGSTOP');
  let offline;
  try {
    offline = await topic.next(id, 1, () => true, TTL + GRACE + 3000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  assert.equal(offline.online, false);
  assert.ok(offline.epoch > online.epoch);
  const back = await topic.next(id, 2, () => true, 5000);
  assert.equal(back.online, true, 'the connection never closed: online again once it reports');
  assert.ok(back.epoch > offline.epoch);
  await c.close();
  await topic.next(id, 3, (r) => !r.online, QUIET + 3000);
});

// One user's connections: the first creates a room, the others see it joined. Its id.
async function roomOfOneUser(conns) {
  const name = `room ${unique()}`;
  conns[0].send('clientCreateRoom', { roomName: name });
  const room = (await conns[0].next('serverCreateRoom', (p) => p.roomName === name, 30000)).roomId;
  for (const c of conns.slice(1)) await c.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
  return room;
}

// Once every comet's report is in, the room counts `online` members (the backends' API), and no
// serverPresence any of `conns` got said more; then closes them.
async function assertCountedOnce(conns, room, online) {
  await sleep(4 * WINDOW + 500);
  const token = cluster.adminToken();
  const count = await api(cluster.url, `/api/presence/room?roomId=${room}`, { method: 'GET', token });
  assert.deepEqual(count.json, { roomId: room, online });
  const seen = conns.flatMap((c) => c.events ?? []);
  for (const c of conns) await c.close();
  assert.ok(!seen.some((e) => e.type === 'serverPresence' && e.payload?.roomId === room && e.payload.online > online),
    'never counted a user twice');
}

test('through the entry point a session\'s connections share a comet: a user counts once', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'pn'), await createUser(cluster.url, 'pm')];
  const tabs = [];
  for (let i = 0; i < 4; i++) tabs.push(await open(cluster.wsUrl, ua));  // four tabs of one browser
  const room = await roomOfOneUser(tabs);
  const b = await open(cluster.wsUrl, ub);
  b.send('clientJoinRoom', { roomId: room });
  const joined = await b.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
  assert.ok(joined.room.online <= 2, JSON.stringify(joined.room));
  await tabs[0].next('serverPresence', (p) => p.roomId === room && p.online === 2, 10000);
  await assertCountedOnce([...tabs, b], room, 2);
});

// Six devices of one user (six logins, six sessions): a session id starts with its user's id
// and the entry point hashes that part, so they share a comet too and the user counts once.
// Hashed by whole session ids they would all land on one of the two comets 1 time in 32.
test('through the entry point every session of a user shares a comet: six devices count once', async () => {
  const u = await createUser(cluster.url, 'pd');
  const devices = [];
  for (let i = 0; i < 6; i++) {
    const login = await api(cluster.url, '/api/login', { body: { email: u.email, password: u.password } });
    assert.equal(login.status, 204, login.text);
    devices.push(await open(cluster.wsUrl, { cookie: login.headers.get('set-cookie').split(';')[0] }));
  }
  const room = await roomOfOneUser(devices);
  await assertCountedOnce(devices, room, 1);
});

// Two new users: `a` on comet-1 in a room it created, `ub` not connected yet.
async function roomOnComet1(prefix) {
  const [ua, ub] = [await createUser(cluster.url, `${prefix}a`), await createUser(cluster.url, `${prefix}b`)];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  return { a, ub, room: await roomOfOneUser([a]) };
}

// A room new to a comet: its first member there sees the other comets' members at once in
// serverJoinedRoom (hello takes the same path), not one report period later.
test('a room new to a comet counts the other comets\' members in serverJoinedRoom', async () => {
  const { a, ub, room } = await roomOnComet1('n');
  const token = cluster.adminToken();
  const path = `/api/presence/room?roomId=${room}`;
  for (let i = 0; i < 50; i++) {
    if ((await api(cluster.url, path, { method: 'GET', token })).json.online === 1) break;
    await sleep(100);
  }
  const b = await open(await cluster.cometWs('comet-2'), ub);
  b.send('clientJoinRoom', { roomId: room });
  const joined = await b.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
  assert.equal(joined.room.online, 2);
  await a.close();
  await b.close();
});

test('counts add up across comets and a killed comet is swept within TTL + grace', async () => {
  const { a, ub, room } = await roomOnComet1('p');
  const b = await open(await cluster.cometWs('comet-2'), ub);
  b.send('clientJoinRoom', { roomId: room });
  await b.next('serverJoinedRoom', (p) => p.room.id === room, 10000);
  await a.next('serverPresence', (p) => p.roomId === room && p.online === 2, 10000);
  await b.next('serverPresence', (p) => p.roomId === room && p.online === 2, 10000);
  const token = cluster.adminToken();
  const count = await api(cluster.url, `/api/presence/room?roomId=${room}`, { method: 'GET', token });
  assert.deepEqual(count.json, { roomId: room, online: 2 });
  const bId = b.hello.me.id;
  const user = await api(cluster.url, `/api/presence/users?ids=${bId}`, { method: 'GET', token });
  assert.deepEqual(user.json, { users: [{ id: bId, online: true, connections: 1 }] });

  const killedAt = Date.now();
  await cluster.kill('comet-2');
  await a.next('serverPresence', (p) => p.roomId === room && p.online === 1, TTL + GRACE + 5000);
  const after = Date.now() - killedAt;
  console.log(`# comet-2's user counted out ${after} ms after kill -9`);
  // ... and the topic says so, once, within the same bound; a's user (comet-1) stays online.
  const offline = await topic.next(bId, 0, (r) => !r.online, TTL + GRACE + 5000);
  const produced = offline.receivedAt - killedAt;
  console.log(`# comet-2's user offline on the topic ${produced} ms after kill -9`);
  assert.ok(produced >= TTL && produced <= TTL + GRACE + 1500, `${produced} ms`);
  assert.equal(topic.of(bId).filter((r) => !r.online).length, 1);
  assert.equal(topic.of(a.hello.me.id).length, 1, 'a is still online');
  // Operators see the sweep in the Logic's metrics.
  const logic = await cluster.node('logic-1');
  const metrics = await get(`http://${logic.address}`, '/metrics', cluster.secret('metrics_token'));
  const swept = sample(metrics.text, 'roomcast_presence_transitions_total', 'online="false",source="sweep"');
  assert.ok(swept >= 1, `swept offline transitions: ${swept}`);
  assert.ok(sample(metrics.text, 'roomcast_presence_transitions_total', 'online="true",source="report"') >= 2);
  // Not before the TTL (a frozen comet gets that long to come back), within TTL + grace (plus
  // one report period and one presence window).
  assert.ok(after >= TTL - 400 && after <= TTL + GRACE + 1500, `${after} ms`);
  await a.close();
});
