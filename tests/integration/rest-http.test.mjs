// HTTP and REST hygiene of docs/protocol.md rev 3 over real sockets: 204 successes, login body
// validation, 415 for non-JSON bodies, 403 for foreign Origins, the Secure cookie option, request
// head limits (431, head timeout, idle keep-alive), 413 bodies, and static `<path>.html` routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import { api, createUser, unique } from '../lib/client.mjs';

let server;
let webRoot;
before(async () => {
  webRoot = mkdtempSync(path.join(tmpdir(), 'roomcast-web-'));
  writeFileSync(path.join(webRoot, 'index.html'), '<p>shell</p>');
  writeFileSync(path.join(webRoot, 'chat.html'), '<p>chat page</p>');
  mkdirSync(path.join(webRoot, 'js'));
  writeFileSync(path.join(webRoot, 'js', 'app.js'), 'console.log(1);');
  server = await startServer({
    extraArgs: ['--web-root', webRoot, '--http-head-timeout-ms', '1500', '--http-idle-timeout-ms', '2000',
      '--allowed-origins', 'https://app.example.com'],
  });
});
after(async () => {
  await server.stop();
  rmSync(webRoot, { recursive: true, force: true });
});

// Sends raw bytes (a string, or an array of strings sent `gapMs` apart) and resolves with
// {data, closedAfterMs} once the server closes the connection (or after `timeoutMs`).
function raw(port, chunks, { gapMs = 0, timeoutMs = 8000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = Date.now();
    let data = '';
    let timer;
    const done = (closed) => { clearTimeout(timer); s.destroy(); resolve({ data, closed, ms: Date.now() - t0 }); };
    s.on('data', (d) => (data += d));
    s.on('close', () => done(true));
    s.on('error', () => {});
    timer = setTimeout(() => done(false), timeoutMs);
    const list = Array.isArray(chunks) ? [...chunks] : [chunks];
    const sendNext = () => {
      if (!list.length || s.destroyed) return;
      s.write(list.shift());
      if (list.length) setTimeout(sendNext, gapMs);
    };
    s.on('connect', sendNext);
  });
}

const post = (p, { body, headers = {} }) =>
  fetch(server.url + p, { method: 'POST', headers, body });

test('create-account, login and logout answer 204 No Content with the cookie', async () => {
  const name = `u-${unique()}`;
  const user = { username: name, email: `${name}@example.com`, password: 'long enough password' };
  let r = await api(server.url, '/api/create-account', { body: user });
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
  assert.match(r.headers.get('set-cookie'), /^sid=[0-9a-f]{32,};/);
  assert.doesNotMatch(r.headers.get('set-cookie'), /Secure/);
  r = await api(server.url, '/api/login', { body: { email: user.email, password: user.password } });
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
  const cookie = r.headers.get('set-cookie').split(';')[0];
  r = await api(server.url, '/api/logout', { cookie });
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /^sid=;.*Max-Age=0/);
});

test('login validates its body like create-account (400 BAD_REQUEST, never LOGIN_FAILED)', async () => {
  const good = { email: `${unique()}@example.com`, password: 'long enough password' };
  const bodies = [
    {}, { password: good.password }, { email: good.email }, { ...good, email: '' },
    { ...good, email: 'not-an-email' }, { ...good, email: `${'a'.repeat(95)}@x.com` },
    { ...good, email: 5 }, { ...good, password: 'short' }, { ...good, password: 'x'.repeat(101) },
    { ...good, password: 12345678901 }, { ...good, email: null },
  ];
  for (const body of bodies) {
    const r = await api(server.url, '/api/login', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.id, 'BAD_REQUEST', JSON.stringify(body));
  }
  for (const text of ['not json', '[]', '"x"', '']) {
    const r = await api(server.url, '/api/login', { raw: text });
    assert.equal(r.json.id, 'BAD_REQUEST', text);
  }
  // Lengths count code points: 10 two-byte characters are a possible password.
  const r = await api(server.url, '/api/login', { body: { ...good, password: 'é'.repeat(10) } });
  assert.equal(r.json.id, 'LOGIN_FAILED');
});

test('LOGIN_FAILED is only for a wrong password or an unknown email', async () => {
  const u = await createUser(server.url);
  let r = await api(server.url, '/api/login', { body: { email: u.email, password: 'a wrong password' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.id, 'LOGIN_FAILED');
  r = await api(server.url, '/api/login', { body: { email: `nobody-${unique()}@example.com`, password: u.password } });
  assert.equal(r.json.id, 'LOGIN_FAILED');
});

test('a POST body that is not declared as JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
  const body = JSON.stringify({ email: `${unique()}@example.com`, password: 'long enough password' });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await post('/api/login', { body, headers: { 'content-type': type } });
    assert.equal(r.status, 415, type);
    assert.equal((await r.json()).id, 'UNSUPPORTED_MEDIA_TYPE');
  }
  // fetch() labels a bare string text/plain; a raw request without any Content-Type is 415 too.
  const req = `POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  assert.match((await raw(server.port, req)).data, /^HTTP\/1\.1 415/);
  const ok = await post('/api/login', { body, headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
  assert.equal((await ok.json()).id, 'LOGIN_FAILED');
  // A body-less logout needs no type.
  assert.equal((await fetch(server.url + '/api/logout', { method: 'POST' })).status, 204);
});

test('a POST with a foreign Origin is 403 FOREIGN_ORIGIN (no login CSRF)', async () => {
  const u = await createUser(server.url);
  const body = JSON.stringify({ email: u.email, password: u.password });
  const headers = (origin) => ({ 'content-type': 'application/json', origin });
  for (const origin of ['https://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null']) {
    const r = await post('/api/login', { body, headers: headers(origin) });
    assert.equal(r.status, 403, origin);
    assert.equal((await r.json()).id, 'FOREIGN_ORIGIN');
    assert.equal(r.headers.get('set-cookie'), null);
  }
  for (const origin of [`http://127.0.0.1:${server.port}`, 'https://app.example.com']) {
    const r = await post('/api/login', { body, headers: headers(origin) });
    assert.equal(r.status, 204, origin);
  }
  const r = await post('/api/create-account', { body, headers: headers('https://evil.example') });
  assert.equal(r.status, 403);
});

test('cookie_secure adds Secure to the session cookie', async () => {
  const s = await startServer({ env: { ROOMCAST_COOKIE_SECURE: '1' } });
  try {
    const u = await createUser(s.url);
    assert.match(u.setCookie, /; Secure/);
    const r = await api(s.url, '/api/logout', { cookie: u.cookie });
    assert.match(r.headers.get('set-cookie'), /Max-Age=0; Secure/);
  } finally {
    await s.stop();
  }
});

test('an oversized request head is 431, an oversized body 413', async () => {
  const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
  const r = await raw(server.port, big);
  assert.match(r.data, /^HTTP\/1\.1 431 /);
  assert.ok(r.closed);
  const small = await raw(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(12 * 1024)}\r\nConnection: close\r\n\r\n`);
  assert.match(small.data, /^HTTP\/1\.1 200 /);
  const body = await post('/api/login', { body: 'x'.repeat(65 * 1024), headers: { 'content-type': 'application/json' } });
  assert.equal(body.status, 413);
});

test('a request head trickled in is cut off at the head timeout', async () => {
  // One header line every 300 ms, forever: the server (head timeout 1.5 s here) closes.
  const lines = ['GET / HTTP/1.1\r\n', ...Array.from({ length: 30 }, (_, i) => `X-${i}: y\r\n`)];
  const r = await raw(server.port, lines, { gapMs: 300, timeoutMs: 8000 });
  assert.ok(r.closed, 'closed by the server');
  assert.ok(r.ms >= 1400 && r.ms < 4000, `closed after ${r.ms} ms`);
  assert.equal(r.data, '', 'no response to a head that never ended');
});

test('an idle keep-alive connection is closed after the idle timeout, not the head timeout', async () => {
  const r = await raw(server.port, 'GET /js/app.js HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 6000 });
  assert.match(r.data, /^HTTP\/1\.1 200 /);
  assert.ok(r.closed);
  assert.ok(r.ms >= 1900 && r.ms < 4000, `closed after ${r.ms} ms`);
});

test('extension-less paths serve <path>.html when it exists, else the app shell', async () => {
  const text = async (p) => { const r = await fetch(server.url + p); return [r.status, await r.text(), r.headers.get('content-type')]; };
  assert.deepEqual(await text('/chat'), [200, '<p>chat page</p>', 'text/html; charset=utf-8']);
  assert.deepEqual((await text('/chat?x=1')).slice(0, 2), [200, '<p>chat page</p>']);
  assert.deepEqual((await text('/chat.html')).slice(0, 2), [200, '<p>chat page</p>']);
  assert.deepEqual((await text('/'))[1], '<p>shell</p>');
  assert.deepEqual((await text('/some/route'))[1], '<p>shell</p>');
  assert.deepEqual((await text('/js/app.js')).slice(0, 2), [200, 'console.log(1);']);
  assert.equal((await text('/js/missing.js'))[0], 404);
  const head = await fetch(server.url + '/chat', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String('<p>chat page</p>'.length));
});

test('a POST that expects 100-continue gets it before it sends its body', async () => {
  const port = new URL(server.url).port;
  const body = JSON.stringify({ email: 'not-an-email', password: 'long enough password' });
  const head = `POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  const s = net.connect(port, '127.0.0.1');
  let data = '';
  s.on('data', (d) => (data += d));
  const closed = new Promise((r) => s.on('close', r));
  s.write(head);
  const deadline = Date.now() + 800;  // well under curl's 1 s wait
  while (!data.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(data, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  s.write(body);
  await closed;
  assert.match(data.slice(data.indexOf('\r\n\r\n') + 4), /^HTTP\/1\.1 400 /);
  assert.match(data, /"id":"BAD_REQUEST"/);
});

test('pipelined requests on one connection are answered in order, up to a bad one', async () => {
  const port = new URL(server.url).port;
  const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const login = '{"email":"not-an-email","password":"long enough password"}';
  const bad = `POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${login.length}\r\n\r\n${login}`;
  // All in one write: the server finds the later requests already buffered.
  let r = await raw(port, get('/js/app.js') + bad + get('/chat', 'Connection: close\r\n'));
  assert.ok(r.closed);
  assert.deepEqual([...r.data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ['200', '400', '200']);
  assert.ok(r.data.indexOf('console.log(1);') < r.data.indexOf('<p>chat page</p>'));
  // A malformed request after good ones: the good ones are answered, then 400 and close.
  r = await raw(port, get('/js/app.js') + get('/chat') + 'NOT HTTP\r\n\r\n');
  assert.ok(r.closed);
  assert.deepEqual([...r.data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ['200', '200', '400']);
});
