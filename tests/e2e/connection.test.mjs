// Unit tests of the web client's reconnection policy (web/js/connection.js) against the close
// codes of docs/protocol.md, with a stand-in WebSocket: no browser, no server.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, restartDelay } from '../../web/js/connection.js';

class FakeWebSocket {
  static OPEN = 1;
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    FakeWebSocket.all.push(this);
  }
  close() {}
  // The server closes this socket.
  serverClose(code, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
}

let saved;
beforeEach(() => {
  saved = globalThis.WebSocket;
  globalThis.WebSocket = FakeWebSocket;
  FakeWebSocket.all = [];
});
afterEach(() => { globalThis.WebSocket = saved; });

function open() {
  const calls = { unauthorized: 0, displaced: 0, closes: [] };
  const conn = new Connection('ws://test/api/ws', {
    onUnauthorized: () => calls.unauthorized++,
    onDisplaced: () => calls.displaced++,
    onClose: (code) => calls.closes.push(code),
  });
  conn.start();
  return { conn, calls, socket: () => FakeWebSocket.all.at(-1) };
}

test('4008 and 1008 stop reconnecting; 4008 says so and reconnects only when asked', () => {
  const a = open();
  a.socket().serverClose(4008, 'too many connections of this user');
  assert.equal(a.conn.status.state, 'stopped');
  assert.equal(a.conn.status.displaced, true);
  assert.equal(a.calls.displaced, 1);
  assert.equal(FakeWebSocket.all.length, 1, 'no new socket');
  a.conn.retryNow(); // the user presses Reconnect
  assert.equal(FakeWebSocket.all.length, 2);
  a.conn.stop();

  const b = open();
  b.socket().serverClose(1008, 'invalid session');
  assert.equal(b.conn.status.state, 'stopped');
  assert.equal(b.calls.unauthorized, 1);
  b.conn.retryNow();
  assert.equal(FakeWebSocket.all.length, 3, 'no reconnect after 1008');
  b.conn.stop();
});

test('1001, 1013 and 4010 reconnect with backoff', () => {
  for (const code of [1001, 1013, 4010, 1006]) {
    const c = open();
    c.socket().serverClose(code);
    assert.equal(c.conn.status.state, 'waiting', `code ${code}`);
    assert.ok(c.conn.status.retryAt - Date.now() <= 500, `code ${code}: first retry is quick`);
    c.conn.stop();
  }
});

test('1012 with reconnect:<ms> waits that long plus a jitter', () => {
  const c = open();
  c.socket().serverClose(1012, 'reconnect:8000');
  const wait = c.conn.status.retryAt - Date.now();
  assert.ok(wait >= 7900 && wait <= 9100, `waits ${wait} ms`);
  c.conn.stop();
  assert.equal(restartDelay(1012, 'reconnect:3000', () => 0), 3000);
  assert.equal(restartDelay(1012, 'reconnect:3000', () => 1), 4000);
  assert.equal(restartDelay(1012, 'restart', () => 0), null);
  assert.equal(restartDelay(1001, 'reconnect:3000', () => 0), null);
  // Without a hint 1012 is an ordinary reconnect.
  const d = open();
  d.socket().serverClose(1012, '');
  assert.ok(d.conn.status.retryAt - Date.now() <= 500);
  d.conn.stop();
});
