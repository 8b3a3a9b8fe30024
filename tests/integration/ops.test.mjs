// The operator endpoints of a standalone server over HTTP: /healthz and /readyz without a token,
// /metrics only with the metrics token (404 when none is configured), in a format promtool
// accepts, counting what clients did; and `--log-format json`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, binary } from '../lib/server.mjs';
import { createUser, connect, unique, sleep } from '../lib/client.mjs';
import { get, promtoolCheck, sample } from '../lib/ops.mjs';

const own = { skip: process.env.ROOMCAST_URL ? 'needs its own server' : false };
const TOKEN = `metrics-${unique()}`;
let server;
before(async () => {
  if (!own.skip) server = await startServer({ env: { ROOMCAST_METRICS_TOKEN: TOKEN, ROOMCAST_ADMIN_TOKEN: `admin-${unique()}` } });
});
after(async () => { await server?.stop(); });

test('/healthz and /readyz answer 200 without a token', own, async () => {
  for (const path of ['/healthz', '/readyz']) {
    const res = await get(server.url, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.text, 'ok\n');
  }
  assert.equal((await fetch(server.url + '/readyz', { method: 'POST' })).status, 405);
});

test('/metrics needs the metrics token, not the admin token', own, async () => {
  const none = await get(server.url, '/metrics');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  assert.equal((await get(server.url, '/metrics', 'wrong')).status, 401);
  assert.equal((await get(server.url, '/metrics', TOKEN.slice(0, -1))).status, 401);
  const ok = await get(server.url, '/metrics', TOKEN);
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
});

test('without a configured metrics token /metrics answers 404', own, async () => {
  const plain = await startServer();
  try {
    assert.equal((await get(plain.url, '/metrics')).status, 404);
    assert.equal((await get(plain.url, '/metrics', 'anything')).status, 404);
    assert.equal((await get(plain.url, '/healthz')).status, 200);
  } finally {
    await plain.stop();
  }
});

test('/metrics counts messages, deliveries, closes and limits, and promtool accepts it', own, async () => {
  const a = await connect(server, await createUser(server.url, 'alice'));
  const b = await connect(server, await createUser(server.url, 'bob'));
  const room = a.hello.rooms[0].id;
  const before = (await get(server.url, '/metrics', TOKEN)).text;
  const accepted0 = sample(before, 'roomcast_messages_accepted_total');
  const delivered0 = sample(before, 'roomcast_deliveries_total');
  const tag = unique();
  a.send('clientMessages', { roomId: room, messages: [{ content: `hi ${tag}`, clientId: tag }] });
  await b.next('serverMessages', (p) => p.messages.some((m) => m.content === `hi ${tag}`));
  await a.next('serverMessages', (p) => p.messages.some((m) => m.content === `hi ${tag}`));
  // Beyond the burst of 100 messages: the second event is refused with RATE_LIMITED.
  const burst = Array.from({ length: 60 }, (_, i) => ({ content: `x${i}` }));
  a.send('clientMessages', { roomId: room, messages: burst });
  a.send('clientMessages', { roomId: room, messages: burst });
  await a.next('serverError', (p) => p.code === 'RATE_LIMITED');
  b.ws.close(1000, 'bye');
  await b.closed;
  await sleep(100);

  const text = (await get(server.url, '/metrics', TOKEN)).text;
  assert.equal(sample(text, 'roomcast_messages_accepted_total'), accepted0 + 61);
  assert.ok(sample(text, 'roomcast_deliveries_total') >= delivered0 + 2, 'both members got it');
  assert.ok(sample(text, 'roomcast_delivery_latency_seconds_count') >= 2);
  assert.ok(sample(text, 'roomcast_delivery_latency_seconds_bucket', 'le="+Inf"') >= 2);
  // Where a message waited on its way: every stage saw the message (one histogram each).
  for (const stage of ['queued', 'job', 'inbox', 'write'])
    assert.ok(sample(text, 'roomcast_delivery_stage_seconds_count', `stage="${stage}"`) >= 1, stage);
  assert.equal(sample(text, 'roomcast_connections'), 1);
  assert.ok(sample(text, 'roomcast_closes_total', 'code="1000"') >= 1);
  assert.ok(sample(text, 'roomcast_rate_limited_total', 'what="messages"') >= 1);
  assert.match(text, /^roomcast_build_info\{node="standalone",role="standalone",version="[^"]+"\} 1$/m);
  assert.ok(sample(text, 'roomcast_presence_users') >= 1, 'alice is online');
  assert.ok(sample(text, 'roomcast_presence_rooms') >= 1, 'her rooms have someone online');
  for (const family of ['roomcast_queue_lag', 'roomcast_pool_wait_seconds'])
    assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'), family);
  const check = await promtoolCheck(text);
  assert.equal(check.code, 0, check.output);
  await a.close();
});

test('--log-format json writes one JSON object per line; a bad format is refused', own, async () => {
  const s = await startServer({ extraArgs: ['--log-format', 'json'] });
  await s.stop();
  const lines = s.output().split('\n').filter((l) => l.startsWith('{'));
  assert.ok(lines.length >= 2, s.output());
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.deepEqual(Object.keys(entry), ['time', 'level', 'role', 'node', 'thread', 'message']);
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(entry.role, 'standalone');
  }
  const bad = spawn(binary, ['standalone', '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => bad.on('exit', r));
  assert.equal(code, 2);
  assert.match(err, /log_format = xml: text or json/);
});
