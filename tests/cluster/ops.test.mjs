// Operating the cluster: every node's /healthz, /readyz and /metrics (on its own address, with
// the metrics token the local cluster generates), a comet drained by SIGTERM (1012
// "reconnect:<ms>" spread over the window, nothing lost), and a logic whose Redis or MariaDB is
// frozen (SIGSTOP) going 503 on /readyz within 15 s and back to 200 after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from './cluster.mjs';
import { api, createUser, Conn, unique, sleep } from '../lib/client.mjs';
import { get, promtoolCheck, sample, waitStatus } from '../lib/ops.mjs';

const DRAIN_WINDOW_MS = 3000;
let cluster;
let token;
before(async () => {
  cluster = await startCluster({ comets: 2, logics: 1, jobs: 1, env: { ROOMCAST_DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS) } });
  token = readFileSync(path.join(cluster.dir, 'secrets', 'metrics_token'), 'utf8').trim();
  // The first records wait for the consumer group to settle.
  const c = await open(cluster.wsUrl, await createUser(cluster.url, 'warm'));
  await newRoom(c, 30000);
  await c.close();
});
after(async () => { await cluster?.down(); });

async function open(wsUrl, user) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  c.hello = await c.next('hello');
  return c;
}

async function newRoom(conn, timeout = 5000) {
  const name = `room ${unique()}`;
  conn.send('clientCreateRoom', { roomName: name });
  return (await conn.next('serverCreateRoom', (p) => p.roomName === name, timeout)).roomId;
}

test('every node serves /healthz, /readyz and, with the metrics token only, /metrics', async () => {
  const nodes = (await cluster.status()).filter((n) => ['comet', 'logic', 'job'].includes(n.role));
  assert.deepEqual(nodes.map((n) => n.id).sort(), ['comet-1', 'comet-2', 'job-1', 'logic-1']);
  for (const node of nodes) {
    const base = `http://${node.address}`;
    assert.equal((await get(base, '/healthz')).status, 200, node.id);
    await waitStatus(base, '/readyz', 200, 10000);
    assert.equal((await get(base, '/metrics')).status, 401, node.id);
    assert.equal((await get(base, '/metrics', cluster.adminToken())).status, 401, `${node.id}: admin token`);
    const res = await get(base, '/metrics', token);
    assert.equal(res.status, 200, node.id);
    const check = await promtoolCheck(res.text);
    assert.equal(check.code, 0, `${node.id}: ${check.output}`);
    assert.match(res.text, new RegExp(`^roomcast_build_info\\{node="${node.id}",role="${node.role}",`, 'm'));
    if (node.role === 'job') assert.match(res.text, /^roomcast_queue_lag\{partition="\d+"\} \d+$/m);
    if (node.role === 'logic') {
      assert.ok(sample(res.text, 'roomcast_messages_accepted_total') >= 0);
      assert.match(res.text, /^roomcast_grpc_calls_total\{code="OK",method="\/[^"]+"\} [1-9]/m);
    }
    if (node.role === 'comet') assert.notEqual(sample(res.text, 'roomcast_connections'), undefined);
  }
});

test('SIGTERM drains a comet: 1012 reconnect:<ms> spread over the window, nothing lost', async () => {
  const sender = await open(await cluster.cometWs('comet-2'), await createUser(cluster.url, 'sender'));
  const room = await newRoom(sender);
  const receivers = [];
  for (let i = 0; i < 12; i++) {
    const user = await createUser(cluster.url, `drained${i}`);
    const conn = await open(await cluster.cometWs('comet-1'), user);
    conn.send('clientJoinRoom', { roomId: room });
    await conn.next('serverJoinedRoom', (p) => p.room.id === room);
    receivers.push({ user, conn });
  }
  let sending = true;
  const sent = [];
  const flow = (async () => {
    for (let i = 0; sending; i++) {
      sender.send('clientMessages', { roomId: room, messages: [{ content: `m${i}`, clientId: `m${i}` }] });
      sent.push(`m${i}`);
      await sleep(40);
    }
  })();
  await sleep(300);
  const t0 = Date.now();
  process.kill(Number((await cluster.node('comet-1')).pid), 'SIGTERM');
  const closes = await Promise.all(receivers.map(async ({ conn }) => ({ ...(await conn.closed), at: Date.now() - t0 })));
  sending = false;
  await flow;
  for (const c of closes) {
    assert.equal(c.code, 1012);
    assert.match(c.reason, /^reconnect:\d+$/);
  }
  const at = closes.map((c) => c.at).sort((a, b) => a - b);
  assert.ok(at.at(-1) - at[0] >= DRAIN_WINDOW_MS / 2, `closes spread over the window: ${at}`);
  assert.ok(at.at(-1) <= DRAIN_WINDOW_MS + 2000, `all closed within the window: ${at}`);
  await sender.next('serverMessages', (p) => p.messages.some((m) => m.content === sent.at(-1)), 10000);

  // Each client comes back through the entry point after the delay it was told, resumes, and
  // has every message: what it got before the close, the hello page and the resume answer.
  for (const [i, { user, conn }] of receivers.entries()) {
    const due = t0 + closes[i].at + Number(closes[i].reason.split(':')[1]);
    await sleep(Math.max(0, due - Date.now()));
    const seen = conn.live(room);
    const again = await open(cluster.wsUrl, user);
    const last = seen.length ? seen.at(-1).id : '0-0';
    again.send('clientResume', { rooms: [{ roomId: room, lastMessageId: last }] });
    const resumed = await again.next('serverRoomHistory', (p) => p.roomId === room && p.resume);
    const page = again.hello.rooms.find((r) => r.id === room).messages;
    const have = new Set([...seen, ...page, ...resumed.messages].map((m) => m.content));
    const missing = sent.filter((content) => !have.has(content));
    assert.deepEqual(missing, [], `receiver ${i} lost messages`);
    await again.close();
  }
  await sender.close();
});

test('a logic with Redis or MariaDB frozen answers /readyz 503 within 15 s, then 200 again', async () => {
  const logic = `http://${(await cluster.node('logic-1')).address}`;
  await waitStatus(logic, '/readyz', 200, 10000);
  for (const [name, pidFile] of [['redis', 'redis/redis.pid'], ['mysql', 'mysql/mysqld.pid']]) {
    const pid = Number(readFileSync(path.join(cluster.dir, pidFile), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    try {
      const took = await waitStatus(logic, '/readyz', 503, 15000);
      const res = await get(logic, '/readyz');
      assert.match(res.text, new RegExp(name), `${name} frozen after ${took} ms: ${res.text}`);
      assert.equal((await get(logic, '/healthz')).status, 200, 'the process still serves');
      // New work is refused at once instead of hanging on the frozen store.
      const t0 = Date.now();
      const login = await api(logic, '/api/login', { body: { email: 'nobody@example.com', password: 'x' } });
      assert.equal(login.status, 503, login.text);
      assert.equal(login.json.id, 'UNAVAILABLE');
      assert.equal(login.json.retryAfterMs, 1000);
      assert.equal(login.headers.get('retry-after'), '1');
      assert.ok(Date.now() - t0 < 1000, `refused after ${Date.now() - t0} ms`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitStatus(logic, '/readyz', 200, 15000);
  }
});

test('a comet without a live Logic answers /readyz 503 and refuses upgrades at once', async () => {
  const comet = `http://${(await cluster.node('comet-2')).address}`;
  await waitStatus(comet, '/readyz', 200, 10000);
  await cluster.kill('logic-1');
  try {
    // The registry entry expires (TTL), then the resolver's grace ends.
    await waitStatus(comet, '/readyz', 503, 20000);
    assert.match((await get(comet, '/readyz')).text, /logic/);
    const refused = new Conn(await cluster.cometWs('comet-2'), {});
    await assert.rejects(refused.opened, /Unexpected server response: 503/);
  } finally {
    await cluster.up();
  }
  await waitStatus(comet, '/readyz', 200, 20000);
});
