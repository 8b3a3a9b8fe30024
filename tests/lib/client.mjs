// A protocol-level test client: real HTTP and WebSocket against a running roomcast.
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';

export const unique = () => `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
export const seqOf = (id) => Number(id.split('-')[0]);

// As a browser does, a request is sent again once on a fresh connection when the reused
// keep-alive connection it went out on was closed under it (undici's UND_ERR_SOCKET, "other side
// closed"): a reloaded nginx's old workers close their idle connections as they quit.
async function fetchRetryingClosedSocket(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (e?.cause?.code !== 'UND_ERR_SOCKET') throw e;
    return fetch(url, init);
  }
}

export async function api(baseUrl, path, { body, cookie, token, method = 'POST', raw } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetchRetryingClosedSocket(baseUrl + path, {
    method,
    headers,
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

// Registers a fresh user; returns {username, email, password, cookie, setCookie}.
export async function createUser(baseUrl, prefix = 'user') {
  const name = `${prefix}-${unique()}`;
  const user = { username: name, email: `${name}@example.com`, password: 'correct horse battery' };
  const res = await api(baseUrl, '/api/create-account', { body: user });
  if (res.status !== 204) throw new Error(`create-account ${res.status}: ${res.text}`);
  const setCookie = res.headers.get('set-cookie');
  return { ...user, setCookie, cookie: setCookie.split(';')[0] };
}

// A WebSocket connection that records every event; `next(type)` awaits the next event of a
// type (in arrival order), `closed` resolves with {code, reason}.
export class Conn {
  constructor(url, { cookie, origin, headers = {} } = {}) {
    const h = { ...headers };
    if (cookie) h.cookie = cookie;
    // Against a cluster (ROOMCAST_URL) every connection carries a browser's Origin: that of the
    // page served from the address it connects to, as Chromium would send.
    if (origin === undefined && process.env.ROOMCAST_URL) origin = `http://${new URL(url).host}`;
    if (origin) h.origin = origin;
    this.ws = new WebSocket(url, { headers: h, maxPayload: 16 * 1024 * 1024 });
    this.events = [];
    this.cursor = new Map();  // type -> index of the next unread event of that type
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.on('open', resolve);
      this.ws.on('error', reject);
    });
    this.ws.on('message', (data, isBinary) => {
      const ev = JSON.parse(data.toString());
      this.events.push(ev);
      for (const w of [...this.waiters]) w();
    });
  }

  static async open(url, opts) {
    const c = new Conn(url, opts);
    await c.opened;
    return c;
  }

  send(type, payload) { this.ws.send(JSON.stringify({ type, payload })); }
  sendRaw(data, opts) { this.ws.send(data, opts); }

  // Resolves with the next unread event of `type` matching `pred`.
  next(type, pred = () => true, timeout = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let i = this.cursor.get(type) ?? 0;
        for (; i < this.events.length; i++) {
          const ev = this.events[i];
          if (ev.type === type && pred(ev.payload)) {
            this.cursor.set(type, i + 1);
            cleanup();
            resolve(ev.payload);
            return true;
          }
        }
        return false;
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${type}; got ${this.events.map((e) => e.type).join(',')}`));
      }, timeout);
      if (!check()) this.waiters.push(check);
    });
  }

  // Every message id/content received live in serverMessages for a room, in arrival order.
  live(roomId) {
    return this.events
      .filter((e) => e.type === 'serverMessages' && e.payload.roomId === roomId)
      .flatMap((e) => e.payload.messages);
  }

  async waitLive(roomId, n, timeout = 10000) {
    const deadline = Date.now() + timeout;
    while (this.live(roomId).length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.live(roomId).length}/${n} messages in ${roomId}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.live(roomId);
  }

  close() { this.ws.close(); return this.closed; }
}

export async function connect(server, user, opts = {}) {
  const c = await Conn.open(server.wsUrl, { cookie: user.cookie, ...opts });
  c.hello = await c.next('hello');
  return c;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
