// The abuse limits of docs/protocol.md over real sockets: per-address sign-ups and logins, failed
// logins per account, connections per address (429 before the upgrade), X-Forwarded-For only
// from trusted proxies, ROOMCAST_LIMITS_PER_ADDRESS=0, the bounded password-hashing queue (503)
// on its own pool, and the dummy hash for unknown emails. Each test starts its own standalone
// server with the per-address limits on (the shared test profile lifts them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { startServer } from '../lib/server.mjs';
import { api, unique, connect, sleep } from '../lib/client.mjs';

const LIMITS_ON = { ROOMCAST_LIMITS_PER_ADDRESS: '1' };
const password = 'correct horse battery';

// A POST on a connection of its own that is closed afterwards (fetch would keep it open and
// count it against the per-address connection limit).
function post(url, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(url + path, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const newAccount = () => {
  const name = `lim-${unique()}`;
  return { username: name, email: `${name}@example.com`, password };
};

function assertRateLimited(r, what) {
  assert.equal(r.status, 429, what);
  assert.equal(r.json.id, 'RATE_LIMITED', what);
  assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After on ${what}`);
  assert.ok(r.json.retryAfterMs > 0, `retryAfterMs on ${what}`);
}

test('account creations per address: the burst passes, then 429; bad bodies are still 400', async () => {
  const s = await startServer({ env: LIMITS_ON, extraArgs: ['--account-creations-per-min', '1', '--account-creations-burst', '3'] });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await post(s.url, '/api/create-account', newAccount())).status, 204);
    const r = await post(s.url, '/api/create-account', newAccount());
    assertRateLimited(r, 'the 4th sign-up');
    assert.ok(Number(r.headers['retry-after']) <= 60);
    // Validation comes first: a malformed body is 400, not 429.
    const bad = await post(s.url, '/api/create-account', { username: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.id, 'BAD_REQUEST');
    // X-Forwarded-For from an untrusted peer changes nothing.
    const spoofed = await post(s.url, '/api/create-account', newAccount(), { 'x-forwarded-for': '10.9.8.7' });
    assert.equal(spoofed.status, 429);
  } finally {
    await s.stop();
  }
});

test('login attempts per address: the burst passes, then 429', async () => {
  const s = await startServer({ env: LIMITS_ON, extraArgs: ['--logins-per-min', '1', '--logins-burst', '4'] });
  try {
    for (let i = 0; i < 4; i++) {
      const r = await post(s.url, '/api/login', { email: `nobody-${unique()}@example.com`, password });
      assert.equal(r.json.id, 'LOGIN_FAILED');
    }
    assertRateLimited(await post(s.url, '/api/login', { email: `nobody-${unique()}@example.com`, password }), '5th login');
    assert.equal((await post(s.url, '/api/login', { email: 'bad' })).json.id, 'BAD_REQUEST');
  } finally {
    await s.stop();
  }
});

test('failed logins per account: after the limit even the right password gets 429, other accounts do not', async () => {
  const s = await startServer({ env: LIMITS_ON, extraArgs: ['--failed-logins-per-min', '3'] });
  try {
    const victim = newAccount();
    const other = newAccount();
    assert.equal((await post(s.url, '/api/create-account', victim)).status, 204);
    assert.equal((await post(s.url, '/api/create-account', other)).status, 204);
    for (let i = 0; i < 3; i++) {
      const r = await post(s.url, '/api/login', { email: victim.email, password: 'wrong password!' });
      assert.equal(r.json.id, 'LOGIN_FAILED');
    }
    const locked = await post(s.url, '/api/login', { email: victim.email.toUpperCase(), password });
    assertRateLimited(locked, 'the right password after 3 failures');
    assert.ok(Number(locked.headers['retry-after']) <= 60);
    assert.equal((await post(s.url, '/api/login', { email: other.email, password })).status, 204);
    // An unknown email behaves exactly the same: 429 reveals nothing about which accounts exist.
    const ghost = `ghost-${unique()}@example.com`;
    for (let i = 0; i < 3; i++) assert.equal((await post(s.url, '/api/login', { email: ghost, password })).json.id, 'LOGIN_FAILED');
    assertRateLimited(await post(s.url, '/api/login', { email: ghost, password }), 'unknown email after 3 failures');
  } finally {
    await s.stop();
  }
});

function upgrade(wsUrl, cookie, headers = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: { cookie, ...headers } });
    ws.on('open', () => resolve({ ws, status: 101 }));
    ws.on('unexpected-response', (req, res) => { resolve({ status: res.statusCode, headers: res.headers }); req.destroy(); });
    ws.on('error', () => resolve({ status: 0 }));
  });
}

test('connections per address: past the limit the upgrade is refused with 429; closing one frees a slot', async () => {
  const s = await startServer({ env: LIMITS_ON, extraArgs: ['--connections-per-address', '3'] });
  try {
    const u = newAccount();
    const r = await post(s.url, '/api/create-account', u);
    const cookie = r.headers['set-cookie'][0].split(';')[0];
    const open = [];
    for (let i = 0; i < 3; i++) {
      const c = await upgrade(s.wsUrl, cookie);
      assert.equal(c.status, 101, `connection ${i + 1}`);
      open.push(c.ws);
    }
    const refused = await upgrade(s.wsUrl, cookie);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    open.pop().close();
    await sleep(300);
    const again = await upgrade(s.wsUrl, cookie);
    assert.equal(again.status, 101);
    again.ws.close();
    for (const ws of open) ws.close();
  } finally {
    await s.stop();
  }
});

test('behind a trusted proxy the client is the X-Forwarded-For address', async () => {
  const s = await startServer({
    env: LIMITS_ON,
    extraArgs: ['--trusted-proxies', '127.0.0.1', '--account-creations-per-min', '1', '--account-creations-burst', '2'],
  });
  try {
    const from = (ip) => ({ 'x-forwarded-for': `203.0.113.50, ${ip}` });
    assert.equal((await post(s.url, '/api/create-account', newAccount(), from('198.51.100.1'))).status, 204);
    assert.equal((await post(s.url, '/api/create-account', newAccount(), from('198.51.100.1'))).status, 204);
    assertRateLimited(await post(s.url, '/api/create-account', newAccount(), from('198.51.100.1')), '3rd from one client');
    // Another client behind the same proxy has its own budget; the spoofable left part is ignored.
    assert.equal((await post(s.url, '/api/create-account', newAccount(), from('198.51.100.2'))).status, 204);
  } finally {
    await s.stop();
  }
});

test('behind a trusted proxy, connections count per forwarded client', async () => {
  const s = await startServer({ env: LIMITS_ON, extraArgs: ['--trusted-proxies', '127.0.0.1', '--connections-per-address', '2'] });
  try {
    const r = await post(s.url, '/api/create-account', newAccount());
    const cookie = r.headers['set-cookie'][0].split(';')[0];
    const via = (ip) => ({ 'x-forwarded-for': ip });
    const open = [];
    for (let i = 0; i < 2; i++) {
      const c = await upgrade(s.wsUrl, cookie, via('198.51.100.1'));
      assert.equal(c.status, 101);
      open.push(c.ws);
    }
    assert.equal((await upgrade(s.wsUrl, cookie, via('198.51.100.1'))).status, 429);
    const other = await upgrade(s.wsUrl, cookie, via('198.51.100.2'));
    assert.equal(other.status, 101, 'another client behind the same proxy');
    for (const ws of [...open, other.ws]) ws.close();
  } finally {
    await s.stop();
  }
});

test('ROOMCAST_LIMITS_PER_ADDRESS=0 lifts the per-address limits', async () => {
  const s = await startServer({
    env: { ROOMCAST_LIMITS_PER_ADDRESS: '0' },
    extraArgs: ['--account-creations-per-min', '1', '--account-creations-burst', '1', '--connections-per-address', '1'],
  });
  try {
    let r;
    for (let i = 0; i < 5; i++) {
      r = await post(s.url, '/api/create-account', newAccount());
      assert.equal(r.status, 204);
    }
    const cookie = r.headers['set-cookie'][0].split(';')[0];
    const conns = [];
    for (let i = 0; i < 3; i++) conns.push(await upgrade(s.wsUrl, cookie));
    assert.deepEqual(conns.map((c) => c.status), [101, 101, 101]);
    for (const c of conns) c.ws.close();
  } finally {
    await s.stop();
  }
});

test('a full password-hashing queue answers 503 BUSY with Retry-After, and chat is not delayed', async () => {
  const s = await startServer({
    env: { ROOMCAST_PASSWORD_COST: 'interactive' },
    extraArgs: ['--password-threads', '1', '--hash-queue-max', '2'],
  });
  try {
    const u = newAccount();
    const created = await api(s.url, '/api/create-account', { body: u });
    const chat = await connect(s, { cookie: created.headers.get('set-cookie').split(';')[0] });
    const flood = Array.from({ length: 24 }, () =>
      post(s.url, '/api/login', { email: `nobody-${unique()}@example.com`, password }));
    // While the hashes run, a WebSocket request is answered at once (its pool is not the hashing pool).
    await sleep(50);
    const t0 = Date.now();
    chat.send('requestRoomHistory', { roomId: chat.hello.rooms[0].id });
    await chat.next('serverRoomHistory');
    const chatMs = Date.now() - t0;
    const results = await Promise.all(flood);
    const busy = results.filter((r) => r.status === 503);
    assert.ok(busy.length > 0, 'some logins are refused while the queue is full');
    for (const r of busy) {
      assert.equal(r.json.id, 'BUSY');
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    for (const r of results.filter((x) => x.status !== 503)) assert.equal(r.json.id, 'LOGIN_FAILED');
    assert.ok(chatMs < 500, `history answered in ${chatMs} ms during the login flood`);
    await chat.close();
  } finally {
    await s.stop();
  }
});

test('an unknown email costs a hash like a wrong password (no fast path reveals accounts)', async () => {
  const s = await startServer({ env: { ROOMCAST_PASSWORD_COST: 'interactive' } });
  try {
    const u = newAccount();
    assert.equal((await post(s.url, '/api/create-account', u)).status, 204);
    const time = async (email) => {
      const t0 = process.hrtime.bigint();
      const r = await post(s.url, '/api/login', { email, password: 'a wrong password' });
      assert.equal(r.json.id, 'LOGIN_FAILED');
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await time(`warm-${unique()}@example.com`);  // the dummy hash is made on first use
    let wrong = 0;
    let unknown = 0;
    for (let i = 0; i < 3; i++) {
      wrong += await time(u.email);
      unknown += await time(`nobody-${unique()}@example.com`);
    }
    assert.ok(unknown >= 0.3 * wrong, `unknown email ${unknown.toFixed(1)} ms vs wrong password ${wrong.toFixed(1)} ms`);
  } finally {
    await s.stop();
  }
});
