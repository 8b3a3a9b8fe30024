// The distributed mode end to end: deploy/local-cluster.sh on free ports (nginx, 2 comets,
// 2 logics, 2 jobs over Redis, MariaDB and the Kafka mock), then the protocol suite through
// nginx, cross-comet delivery, scale-out, and single-process faults (docs/design.md "Delivery semantics").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startCluster } from './cluster.mjs';
import { repoRoot } from '../lib/server.mjs';
import { api, createUser, Conn, seqOf, unique, sleep } from '../lib/client.mjs';
import { rawExchange } from '../lib/raw-ws.mjs';

let cluster;
const t0 = Date.now();
before(async () => {
  cluster = await startCluster();
  console.log(`# cluster up in ${cluster.startSeconds.toFixed(1)} s (${cluster.dir})`);
  // The first records wait for the consumer group to settle; start the tests after that.
  const u = await createUser(cluster.url, 'warm');
  const c = await open(cluster.wsUrl, u);
  const name = `warm ${unique()}`;
  c.send('clientCreateRoom', { roomName: name });
  await c.next('serverCreateRoom', (p) => p.roomName === name, 30000);
  await c.close();
});
after(async () => {
  if (cluster) await cluster.down();
  console.log(`# cluster suite took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

// Connects as a browser would: with the Origin of the page served from the same address.
async function open(wsUrl, user) {
  const origin = `http://${new URL(wsUrl).host}`;
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin });
  c.hello = await c.next('hello');
  return c;
}

async function newRoom(conn) {
  const name = `room ${unique()}`;
  conn.send('clientCreateRoom', { roomName: name });
  return (await conn.next('serverCreateRoom', (p) => p.roomName === name)).roomId;
}

async function join(conn, roomId) {
  conn.send('clientJoinRoom', { roomId });
  await conn.next('serverJoinedRoom', (p) => p.room.id === roomId);
}

const ids = (msgs) => msgs.map((m) => m.id);
function assertInOrderOnce(msgs, what) {
  const seqs = msgs.map((m) => seqOf(m.id));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `${what}: ${seqs[i - 1]} then ${seqs[i]}`);
}

// Sends `n` messages with client ids, one every `gapMs`, without waiting for echoes.
async function sendFlow(conn, roomId, n, gapMs, tag, during) {
  const sent = [];
  for (let i = 0; i < n; i++) {
    const clientId = `${tag}-${i}`;
    conn.send('clientMessages', { roomId, messages: [{ content: `${tag} ${i}`, clientId }] });
    sent.push(clientId);
    if (during && i === Math.floor(n / 3)) await during();
    await sleep(gapMs);
  }
  return sent;
}

test('the protocol integration suite passes through nginx', async () => {
  const files = ['integration/rest.test.mjs', 'integration/websocket.test.mjs'];
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=dot', ...files], {
    cwd: path.join(repoRoot, 'tests'),
    env: { ...process.env, ROOMCAST_URL: cluster.url, ROOMCAST_ADMIN_TOKEN: cluster.adminToken() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, out.slice(-6000));
});

test('through nginx an oversized head is 431 and an oversized body 413, both in JSON', async () => {
  const big = await fetch(`${cluster.url}/api/ws`, { headers: { 'x-big': 'a'.repeat(17 * 1024) } });
  assert.equal(big.status, 431);
  assert.deepEqual((await big.json()).id, 'BAD_REQUEST');
  // Many header lines, each small, over 16 KiB in all: the comet behind nginx answers the same.
  const lines = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`x-pad-${i}`, 'a'.repeat(7000)]));
  const many = await fetch(`${cluster.url}/api/nope`, { headers: lines });
  assert.equal(many.status, 431);
  assert.equal((await many.json()).id, 'BAD_REQUEST');
  const body = await api(cluster.url, '/api/login', { raw: 'x'.repeat(65 * 1024) });
  assert.equal(body.status, 413);
  assert.equal(body.json?.id, 'BAD_REQUEST', body.text);
  const fits = await api(cluster.url, '/api/login', { raw: 'x'.repeat(60 * 1024) });
  assert.equal(fits.status, 400, 'a body under the limit reaches Logic');
});

test('through nginx a request it cannot parse is 400 in JSON, not an HTML page', async () => {
  const port = Number(new URL(cluster.url).port);
  for (const bytes of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n']) {
    const text = (await rawExchange(port, bytes)).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 400 /, text);
    assert.match(text, /\r\nContent-Type: application\/json\r\n/i, text);
    assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).id, 'BAD_REQUEST');
  }
  // The error page is internal: asked for by name it is not found.
  assert.equal((await fetch(`${cluster.url}/__errors/400`)).status, 404);
});

test('two users on different comets exchange messages in one room and see the same order', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'a'), await createUser(cluster.url, 'b')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const room = await newRoom(a);
  await join(b, room);
  for (let i = 0; i < 20; i++) {
    (i % 2 ? a : b).send('clientMessages', { roomId: room, messages: [{ content: `m${i}`, clientId: `x${i}` }] });
  }
  const la = await a.waitLive(room, 20);
  const lb = await b.waitLive(room, 20);
  assert.deepEqual(ids(la), ids(lb));
  assert.deepEqual(la.map((m) => m.content).sort(), lb.map((m) => m.content).sort());
  assertInOrderOnce(la, 'comet-1');
  await a.close();
  await b.close();
});

test('a user with connections on two comets receives a user push on both', async () => {
  const u = await createUser(cluster.url, 'push');
  const c1 = await open(await cluster.cometWs('comet-1'), u);
  const c2 = await open(await cluster.cometWs('comet-2'), u);
  const id = c1.hello.me.id;
  const res = await api(cluster.url, '/api/push/users', {
    token: cluster.adminToken(), body: { userIds: [id], op: 7, body: { hi: 'both' } },
  });
  assert.equal(res.status, 200, res.text);
  for (const c of [c1, c2]) assert.deepEqual(await c.next('serverPush', () => true, 10000), { op: 7, body: { hi: 'both' } });
  await c1.close();
  await c2.close();
});

test('a third comet added at runtime joins nginx and receives room messages', async () => {
  await cluster.up({ COMETS: '3' });
  const status = await cluster.status();
  assert.ok(status.find((n) => n.id === 'comet-3' && n.pid !== 'down'), JSON.stringify(status));
  const [ua, ub] = [await createUser(cluster.url, 'a3'), await createUser(cluster.url, 'b3')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const c = await open(await cluster.cometWs('comet-3'), ub);
  const room = await newRoom(a);
  await join(c, room);
  a.send('clientMessages', { roomId: room, messages: [{ content: 'to the newcomer' }] });
  const got = await c.waitLive(room, 1);
  assert.equal(got[0].content, 'to the newcomer');
  // nginx spreads WebSockets over the new comet too.
  const cometPort = (await cluster.node('comet-3')).address.split(':')[1];
  const conf = (await import('node:fs')).readFileSync(path.join(cluster.dir, 'nginx', 'nginx.conf'), 'utf8');
  assert.ok(conf.includes(`127.0.0.1:${cometPort}`));
  await a.close();
  await c.close();
});

test('kill -9 of one Job while messages flow: every message delivered once, in order', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'ja'), await createUser(cluster.url, 'jb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const rooms = [];
  for (let i = 0; i < 4; i++) rooms.push(await newRoom(a));  // spread over partitions
  for (const r of rooms) await join(b, r);
  const tag = unique();
  const flows = rooms.map((r, i) =>
    sendFlow(a, r, 40, 25, `${tag}-${i}`, i === 0 ? () => cluster.kill('job-1') : undefined));
  const sent = await Promise.all(flows);
  for (const [i, r] of rooms.entries()) {
    const live = await b.waitLive(r, 40, 60000);
    await sleep(300);
    const again = b.live(r);
    assert.deepEqual(again.map((m) => m.clientId), sent[i], `room ${i} order/duplicates`);
    assertInOrderOnce(again, `room ${i}`);
    assert.equal(live.length, 40);
  }
  await cluster.up();  // restarts job-1
  await a.close();
  await b.close();
});

test('kill -9 of one Logic: sends keep working within seconds', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'la'), await createUser(cluster.url, 'lb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const room = await newRoom(a);
  await join(b, room);
  await cluster.kill('logic-1');
  const killedAt = Date.now();
  const tag = unique();
  const sent = await sendFlow(a, room, 30, 100, tag);
  const live = await b.waitLive(room, 30, 30000);
  assert.deepEqual(live.map((m) => m.clientId), sent);
  const errors = a.events.filter((e) => e.type === 'serverError');
  assert.equal(errors.length, 0, JSON.stringify(errors));
  console.log(`# all sends after the Logic kill delivered, last after ${Date.now() - killedAt} ms`);
  // REST through nginx keeps working too (the dead upstream is skipped).
  for (let i = 0; i < 4; i++) await createUser(cluster.url, 'after');
  await cluster.up();
  await a.close();
  await b.close();
});

test('kill -9 of one Comet: its clients reconnect to another and resume without loss', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'ca'), await createUser(cluster.url, 'cb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const room = await newRoom(a);
  await join(b, room);
  const tag = unique();
  const before = await sendFlow(a, room, 10, 20, `${tag}-before`);
  const seen = await b.waitLive(room, 10);
  const lastId = seen.at(-1).id;
  await cluster.kill('comet-2');
  await b.closed;
  const during = await sendFlow(a, room, 20, 20, `${tag}-during`);
  await a.waitLive(room, 30);
  // The client reconnects through nginx (comet-2 is dead, so it lands on a live comet).
  const b2 = await open(cluster.wsUrl, ub);
  const page = b2.hello.rooms.find((r) => r.id === room);
  b2.send('clientResume', { rooms: [{ roomId: room, lastMessageId: lastId }] });
  const resumed = await b2.next('serverRoomHistory', (p) => p.roomId === room && p.resume);
  const after = await sendFlow(a, room, 5, 20, `${tag}-after`);
  await b2.waitLive(room, 5);
  const got = [
    ...page.messages.filter((m) => seqOf(m.id) > seqOf(lastId)).reverse(),
    ...resumed.messages.slice().reverse(),
    ...b2.live(room),
  ];
  const expected = [...during, ...after];
  assert.deepEqual(got.map((m) => m.clientId).sort(), [...expected].sort());
  assert.equal(before.length + expected.length, 35);
  await cluster.up();  // restarts comet-2
  await a.close();
  await b2.close();
});

test('Redis FLUSHALL: history still pages from MySQL and live delivery recovers', async () => {
  const u = await createUser(cluster.url, 'fl');
  const a = await open(await cluster.cometWs('comet-1'), u);
  const room = await newRoom(a);
  const tag = unique();
  await sendFlow(a, room, 120, 10, tag); // 100/s for 1.2 s: the bucket (100, +50/s) never runs dry
  await a.waitLive(room, 120, 30000);
  await a.close();
  assert.equal(await cluster.redis('FLUSHALL'), 'OK');
  // Sessions lived in Redis: log in again.
  const login = await api(cluster.url, '/api/login', { body: { email: u.email, password: u.password } });
  assert.equal(login.status, 204, login.text);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const c = await open(await cluster.cometWs('comet-2'), { cookie });
  await join(c, room);
  const all = [];
  let anchor;
  for (;;) {
    c.send('requestRoomHistory', { roomId: room, count: 50, ...(anchor ? { firstMessageId: anchor } : {}) });
    const page = await c.next('serverRoomHistory', (p) => p.roomId === room && !p.resume);
    all.push(...page.messages);
    if (!page.hasMoreMessages) break;
    anchor = page.messages.at(-1).id;
  }
  assert.equal(all.length, 120);
  assert.deepEqual(all.map((m) => seqOf(m.id)), Array.from({ length: 120 }, (_, i) => 120 - i));
  // Routes and the registry are rebuilt by the nodes within seconds.
  const deadline = Date.now() + 15000;
  let n = 0;
  for (;;) {
    c.send('clientMessages', { roomId: room, messages: [{ content: `after flush ${n}`, clientId: `${tag}-after-${n}` }] });
    n++;
    try {
      await c.next('serverMessages', (p) => p.roomId === room, 1500);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
  await c.close();
});

test('a Kafka broker down in the mock: nothing lost', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'ka'), await createUser(cluster.url, 'kb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const rooms = [await newRoom(a), await newRoom(a), await newRoom(a)];
  for (const r of rooms) await join(b, r);
  const tag = unique();
  let downAt;
  const flows = rooms.map((r, i) => sendFlow(a, r, 30, 50, `${tag}-${i}`, i === 0 ? async () => {
    assert.equal(await cluster.kafka('down 1'), 'ok');
    downAt = Date.now();
    setTimeout(() => cluster.kafka('up 1'), 3000);
  } : undefined));
  const sent = await Promise.all(flows);
  for (const [i, r] of rooms.entries()) {
    const live = await b.waitLive(r, 30, 60000);
    assert.deepEqual(live.map((m) => m.clientId), sent[i]);
  }
  console.log(`# broker 1 down for 3 s at ${downAt - t0} ms; all ${sent.flat().length} messages delivered once`);
  await a.close();
  await b.close();
});

test('MariaDB restarted under load: no accepted message lost', async () => {
  const [ua, ub] = [await createUser(cluster.url, 'ma'), await createUser(cluster.url, 'mb')];
  const a = await open(await cluster.cometWs('comet-1'), ua);
  const b = await open(await cluster.cometWs('comet-2'), ub);
  const room = await newRoom(a);
  await join(b, room);
  const tag = unique();
  const sent = await sendFlow(a, room, 60, 50, tag, async () => {
    await cluster.mysqlStop();
    setTimeout(() => cluster.up().catch((e) => console.error(e)), 2000);
  });
  // A send the server refused (serverError) was not accepted; every other one must arrive.
  await sleep(1000);
  const refused = a.events.filter((e) => e.type === 'serverError' && e.payload.requestType === 'clientMessages').length;
  let deadline = Date.now() + 60000;
  while (b.live(room).length < sent.length - refused && Date.now() < deadline) await sleep(100);
  await sleep(500);
  const live = b.live(room).map((m) => m.clientId);
  assert.equal(new Set(live).size, live.length, 'duplicates');
  assert.ok(live.length >= sent.length - refused, `${live.length} of ${sent.length} delivered, ${refused} refused`);
  // Delivered in send order (a subsequence of what was sent).
  let j = 0;
  for (const id of live) { while (j < sent.length && sent[j] !== id) j++; assert.ok(j < sent.length, `out of order at ${id}`); }
  console.log(`# MariaDB restart: ${live.length}/${sent.length} delivered, ${refused} refused while it was down`);
  // The sender retries everything with the same client ids once the database is back: the
  // missing ones arrive, the delivered ones are not created twice.
  await sleep(2000);
  for (let i = 0; i < sent.length; i++) {
    a.send('clientMessages', { roomId: room, messages: [{ content: `${tag} ${i}`, clientId: sent[i] }] });
    await sleep(10);
  }
  deadline = Date.now() + 30000;
  while (b.live(room).length < sent.length && Date.now() < deadline) await sleep(100);
  await sleep(1000);
  const final = b.live(room).map((m) => m.clientId);
  assert.deepEqual([...final].sort(), [...sent].sort());
  assertInOrderOnce(b.live(room), 'after the retry');
  await a.close();
  await b.close();
});

test('latency and throughput across comets (measurement)', async () => {
  const rooms = 10;
  const perRoom = 100;
  const pairs = [];
  for (let i = 0; i < rooms; i++) {
    const [us, ur] = [await createUser(cluster.url, 'ps'), await createUser(cluster.url, 'pr')];
    const s = await open(await cluster.cometWs('comet-1'), us);
    const r = await open(await cluster.cometWs('comet-2'), ur);
    const room = await newRoom(s);
    await join(r, room);
    pairs.push({ s, r, room, sentAt: new Map() });
  }
  const latencies = [];
  for (const p of pairs) {
    p.r.ws.on('message', (d) => {
      const ev = JSON.parse(d.toString());
      if (ev.type !== 'serverMessages' || ev.payload.roomId !== p.room) return;
      for (const m of ev.payload.messages) latencies.push(Date.now() - p.sentAt.get(m.clientId));
    });
  }
  const start = Date.now();
  for (const p of pairs) {
    for (let i = 0; i < perRoom; i++) {
      p.sentAt.set(`m${i}`, Date.now());
      p.s.send('clientMessages', { roomId: p.room, messages: [{ content: `load ${i}`, clientId: `m${i}` }] });
    }
  }
  for (const p of pairs) await p.r.waitLive(p.room, perRoom, 60000);
  const seconds = (Date.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (f) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))];
  console.log(`# ${rooms * perRoom} messages (${rooms} rooms, comet-1 -> comet-2) in ${seconds.toFixed(2)} s: ` +
    `${Math.round((rooms * perRoom) / seconds)} msg/s, send->receive p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms`);
  for (const p of pairs) {
    assertInOrderOnce(p.r.live(p.room), 'load');
    await p.s.close();
    await p.r.close();
  }
});
