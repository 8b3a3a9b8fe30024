// A bare WebSocket client on a TCP socket, for what the `ws` package refuses to send (reserved
// close codes, malformed close payloads) and for reading the server's exact bytes.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

// A masked client frame with FIN set.
export function clientFrame(opcode, payload = Buffer.alloc(0)) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = data.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
    : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = data[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

// A close payload: the code in two bytes, then the reason bytes.
export function closePayload(code, reason = Buffer.alloc(0)) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.isBuffer(reason) ? reason : Buffer.from(reason)]);
}

// Sends raw bytes to host:port and collects everything until the server closes (or timeout).
export function rawExchange(port, bytes, { timeout = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks)); }, timeout);
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)); });
    s.on('error', (e) => { clearTimeout(timer); if (chunks.length) resolve(Buffer.concat(chunks)); else reject(e); });
  });
}

// Parses the unmasked server frames in `buf`: [{opcode, payload}].
export function serverFrames(buf) {
  const frames = [];
  let pos = 0;
  while (pos + 2 <= buf.length) {
    const opcode = buf[pos] & 0x0f;
    let len = buf[pos + 1] & 0x7f;
    let head = 2;
    if (len === 126) { len = buf.readUInt16BE(pos + 2); head = 4; }
    else if (len === 127) { len = Number(buf.readBigUInt64BE(pos + 2)); head = 10; }
    if (pos + head + len > buf.length) break;
    frames.push({ opcode, payload: buf.subarray(pos + head, pos + head + len) });
    pos += head + len;
  }
  return frames;
}

// An upgrade request for /api/ws.
export function upgradeRequest(port, { cookie, version = '13', method = 'GET', key } = {}) {
  return [
    `${method} /api/ws HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key ?? randomBytes(16).toString('base64')}`,
    `Sec-WebSocket-Version: ${version}`,
    ...(cookie ? [`Cookie: ${cookie}`] : []),
    '', '',
  ].join('\r\n');
}

// A raw, upgraded connection: `frames()` is what the server sent so far (after the 101 head).
export async function rawConnect(port, cookie) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  let buf = Buffer.alloc(0);
  let ended = false;
  const waiters = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  s.on('data', (d) => { buf = Buffer.concat([buf, d]); wake(); });
  s.on('close', () => { ended = true; wake(); });
  s.on('error', () => {});
  s.write(upgradeRequest(port, { cookie }));
  const conn = {
    socket: s,
    get ended() { return ended; },
    body() {
      const end = buf.indexOf('\r\n\r\n');
      return end < 0 ? Buffer.alloc(0) : buf.subarray(end + 4);
    },
    frames() { return serverFrames(conn.body()); },
    send(opcode, payload) { s.write(clientFrame(opcode, payload)); },
    sendEvent(type, payload) { conn.send(1, JSON.stringify({ type, payload })); },
    // Waits until `pred(frames)` holds or the connection ends; returns the frames.
    async until(pred, timeout = 5000) {
      const deadline = Date.now() + timeout;
      while (!pred(conn.frames()) && !ended) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${conn.frames().length} frames`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
      return conn.frames();
    },
    // Waits for the TCP connection to end.
    async closed(timeout = 5000) {
      const deadline = Date.now() + timeout;
      while (!ended) {
        if (Date.now() > deadline) throw new Error('the server did not close the connection');
        await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
  };
  return conn;
}

export const closeCodeOf = (frame) => (frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null);
