// REST contract of docs/protocol.md over real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { suiteServer } from '../lib/server.mjs';
import { api, createUser, unique, Conn } from '../lib/client.mjs';

let server;
before(async () => { server = await suiteServer(); });
after(async () => { await server.stop(); });

test('create-account logs in with a secure session cookie', async () => {
  const u = await createUser(server.url);
  assert.match(u.setCookie, /^sid=[0-9a-f]{32,};/);
  assert.match(u.setCookie, /HttpOnly/);
  assert.match(u.setCookie, /SameSite=Strict/);
  assert.match(u.setCookie, /Path=\//);
  const c = await Conn.open(server.wsUrl, { cookie: u.cookie });
  const hello = await c.next('hello');
  assert.equal(hello.me.username, u.username);
  assert.equal(typeof hello.me.id, 'number');
  await c.close();
});

test('usernames and emails are unique, case-insensitively', async () => {
  const u = await createUser(server.url);
  let r = await api(server.url, '/api/create-account', {
    body: { username: u.username.toUpperCase(), email: `other-${unique()}@example.com`, password: 'long enough password' },
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.id, 'USERNAME_EXISTS');
  r = await api(server.url, '/api/create-account', {
    body: { username: `other-${unique()}`, email: u.email.toUpperCase(), password: 'long enough password' },
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.id, 'EMAIL_EXISTS');
});

test('uniqueness and login fold Unicode case, not only ASCII', async () => {
  const tag = unique();
  const password = 'long enough password';
  const first = await api(server.url, '/api/create-account', {
    body: { username: `Jürgen Ärger ${tag}`, email: `jürgen-${tag}@straße.example`, password },
  });
  assert.equal(first.status, 204);
  let r = await api(server.url, '/api/create-account', {
    body: { username: `JÜRGEN ÄRGER ${tag}`, email: `x-${tag}@example.com`, password },
  });
  assert.equal(r.json.id, 'USERNAME_EXISTS');
  r = await api(server.url, '/api/create-account', {
    body: { username: `other ${tag}`, email: `JÜRGEN-${tag}@STRASSE.EXAMPLE`, password },
  });
  assert.equal(r.json.id, 'EMAIL_EXISTS');
  r = await api(server.url, '/api/login', { body: { email: `JÜRGEN-${tag}@STRASSE.example`, password } });
  assert.equal(r.status, 204, 'login with the other case finds the account');
  // A different letter is a different name.
  r = await api(server.url, '/api/create-account', {
    body: { username: `Jurgen Arger ${tag}`, email: `jurgen-${tag}@strasse.example.org`, password },
  });
  assert.equal(r.status, 204);
});

test('malformed bodies get 400 BAD_REQUEST', async () => {
  const good = { username: `u-${unique()}`, email: `${unique()}@example.com`, password: 'long enough password' };
  const bodies = [
    {}, { ...good, email: 10 }, { ...good, email: '' }, { ...good, email: 'not-email' },
    { ...good, email: 'a@b' }, { ...good, email: `${'a'.repeat(95)}@x.com` }, { ...good, email: 'a@@b.com' },
    { ...good, password: 'short' }, { ...good, password: 'x'.repeat(101) }, { ...good, password: 10 },
    { ...good, username: 'abc' }, { ...good, username: 'x'.repeat(101) }, { ...good, username: 'bad\u0001name' },
    { username: good.username, password: good.password },
  ];
  for (const body of bodies) {
    const r = await api(server.url, '/api/create-account', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.id, 'BAD_REQUEST', JSON.stringify(body));
    assert.equal(typeof r.json.message, 'string');
  }
  for (const raw of ['not json', '[1,2]', '"str"', '{"username":']) {
    const r = await api(server.url, '/api/create-account', { raw });
    assert.equal(r.status, 400, raw);
    assert.equal(r.json.id, 'BAD_REQUEST');
  }
  // Lengths count code points, not bytes: 4 two-byte characters are a valid username.
  const r = await api(server.url, '/api/create-account', {
    body: { ...good, username: `éééé${unique().slice(0, 4)}`.slice(0, 8) },
  });
  assert.equal(r.status, 204, r.text);
});

test('login succeeds with the right password and fails otherwise', async () => {
  const u = await createUser(server.url);
  let r = await api(server.url, '/api/login', { body: { email: u.email.toUpperCase(), password: u.password } });
  assert.equal(r.status, 204);
  assert.equal(r.text, '');
  assert.match(r.headers.get('set-cookie'), /^sid=[0-9a-f]{32,};.*HttpOnly/);
  r = await api(server.url, '/api/login', { body: { email: u.email, password: 'wrong password!!' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.id, 'LOGIN_FAILED');
  r = await api(server.url, '/api/login', { body: { email: `nobody-${unique()}@example.com`, password: u.password } });
  assert.equal(r.json.id, 'LOGIN_FAILED');
  r = await api(server.url, '/api/login', { body: { email: 5 } });
  assert.equal(r.status, 400);
  assert.equal(r.json.id, 'BAD_REQUEST');
});

test('logout revokes the session and clears the cookie', async () => {
  const u = await createUser(server.url);
  const r = await api(server.url, '/api/logout', { cookie: u.cookie });
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /^sid=;.*Max-Age=0/);
  const c = new Conn(server.wsUrl, { cookie: u.cookie });
  const closed = await c.closed;
  assert.equal(closed.code, 1008);
});

test('unknown paths, wrong methods and plain GETs of the socket', async () => {
  let r = await api(server.url, '/api/bad');
  assert.equal(r.status, 404);
  assert.equal(r.json.id, 'NOT_FOUND');
  r = await api(server.url, '/api/login', { method: 'GET' });
  assert.equal(r.status, 405);
  assert.equal(r.json.id, 'METHOD_NOT_ALLOWED');
  assert.equal(r.headers.get('allow'), 'POST');
  r = await api(server.url, '/api/ws', { method: 'GET' });
  assert.equal(r.status, 426);
});

test('the web client is served at /', async () => {
  const r = await fetch(server.url + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  const traversal = await fetch(server.url + '/%2e%2e/%2e%2e/etc/passwd');
  assert.doesNotMatch(await traversal.text(), /root:/);
  assert.doesNotMatch(await (await fetch(server.url + '/../../etc/passwd')).text(), /root:/);
});
