// Presence across comets (discovery/cluster_presence): a room's online count sums the comets'
// own reports, and a comet killed with -9 is swept: its users go offline within the registry
// TTL plus the grace. Runs its own small cluster (2 comets, 1 logic, 1 job).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { api, createUser, Conn, unique } from '../lib/client.mjs';

const GRACE = 1000;
const TTL = 3000; // the cluster's registry TTL (local-cluster.sh default)
let cluster;

before(async () => {
  cluster = await startCluster({
    comets: 2, logics: 1, jobs: 1,
    env: { ROOMCAST_PRESENCE_GRACE_MS: String(GRACE), ROOMCAST_PRESENCE_WINDOW_MS: '300' },
  });
});
after(async () => { if (cluster) await cluster.down(); });

async function open(wsUrl, user) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  c.hello = await c.next('hello');
  return c;
}

test('counts add up across comets and a killed comet is swept within TTL + grace', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'pa'), await createUser(cluster.url, 'pb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const name = `room ${unique()}`;
  a.send('clientCreateRoom', { roomName: name });
  const room = (await a.next('serverCreateRoom', (p) => p.roomName === name, 30000)).roomId;
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
  // Not before the TTL (a frozen comet gets that long to come back), within TTL + grace (plus
  // one report period and one presence window).
  assert.ok(after >= TTL - 400 && after <= TTL + GRACE + 1500, `${after} ms`);
  await a.close();
});
