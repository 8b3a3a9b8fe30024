// A frozen node must not make a live connection skip messages (docs/protocol.md, serverMessages:
// the live stream is gap-free; docs/design.md "Delivery semantics"). Comet-2 and logic-1 are stopped with SIGSTOP for
// 8 s while a sender on comet-1 keeps posting, and the sending stops when they resume (so no
// later message reveals a hole). Every receiver must end with every message exactly once, in
// order: from its live stream, gap fills, or — after a close with 4010 — a resume.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { createUser, Conn, seqOf, unique, sleep } from '../lib/client.mjs';

let cluster;
before(async () => {
  cluster = await startCluster();
  console.log(`# cluster up in ${cluster.startSeconds.toFixed(1)} s (${cluster.dir})`);
  const u = await createUser(cluster.url, 'warm');
  const c = await open(cluster.wsUrl, u);
  const name = `warm ${unique()}`;
  c.send('clientCreateRoom', { roomName: name });
  await c.next('serverCreateRoom', (p) => p.roomName === name, 30000);
  await c.close();
});
after(async () => { if (cluster) await cluster.down(); });

async function open(wsUrl, user) {
  const origin = `http://${new URL(wsUrl).host}`;
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin });
  c.hello = await c.next('hello', () => true, 15000);
  return c;
}

// A client that follows one room across reconnects, as the web client does: on a close it
// reconnects and resumes from the last id it saw. `messages()` is what it showed, in order.
class Receiver {
  constructor(wsUrl, user, room) {
    Object.assign(this, { wsUrl, user, room, generations: [], closes: [], done: false });
  }
  async start() { await this.connect(); }
  lastSeq() { return this.messages().reduce((n, m) => Math.max(n, seqOf(m.id)), 0); }
  messages() {
    return this.generations.flatMap((g) => [...g.resumed, ...g.page, ...g.conn.live(this.room)]);
  }
  async connect() {
    const last = this.lastSeq();
    const conn = await open(this.wsUrl, this.user);
    const page = conn.hello.rooms.find((r) => r.id === this.room);
    const gen = { conn, resumed: [], page: page.messages.filter((m) => seqOf(m.id) > last).reverse() };
    if (this.generations.length > 0) {
      conn.send('clientResume', { rooms: [{ roomId: this.room, lastMessageId: `${last}-0` }] });
      const answer = await conn.next('serverRoomHistory', (p) => p.roomId === this.room && p.resume, 15000);
      assert.equal(answer.hasMoreMessages, false, 'the resume fits one answer');
      gen.resumed = answer.messages.slice().reverse();
    }
    this.generations.push(gen);
    conn.closed.then(({ code }) => {
      this.closes.push(code);
      if (!this.done) this.connect().catch((e) => { this.error = e; });
    });
  }
  async close() {
    this.done = true;
    for (const g of this.generations) g.conn.ws.close();
  }
}

// Posts with a client id until the echo arrives (a frozen Logic may fail a send; the retry
// with the same id creates nothing twice).
async function postUntilAccepted(conn, room, clientId) {
  for (;;) {
    conn.send('clientMessages', { roomId: room, messages: [{ content: clientId, clientId }] });
    const end = Date.now() + 12000;
    while (Date.now() < end && !conn.accepted.has(clientId)) await sleep(20);
    if (conn.accepted.has(clientId)) return;
  }
}

test('comet and logic frozen 8 s under load: every receiver gets every message once, in order', { timeout: 60000 }, async () => {
  const [us, ur, uf] = [await createUser(cluster.url, 'fs'), await createUser(cluster.url, 'fr'), await createUser(cluster.url, 'ff')];
  const sender = await open(await cluster.cometWs('comet-1'), us);
  sender.accepted = new Set();
  sender.ws.on('message', (d) => {
    const ev = JSON.parse(d.toString());
    if (ev.type === 'serverMessages') for (const m of ev.payload.messages) sender.accepted.add(m.clientId);
  });
  const room = (async () => {
    const name = `freeze ${unique()}`;
    sender.send('clientCreateRoom', { roomName: name });
    return (await sender.next('serverCreateRoom', (p) => p.roomName === name)).roomId;
  })();
  const roomId = await room;
  const receivers = [
    new Receiver(await cluster.cometWs('comet-1'), ur, roomId),
    new Receiver(await cluster.cometWs('comet-2'), uf, roomId),
    new Receiver(await cluster.cometWs('comet-2'), ur, roomId),
  ];
  for (const r of receivers) {
    const c = await open(r.wsUrl, r.user);  // join once, then follow the room
    c.send('clientJoinRoom', { roomId });
    await c.next('serverJoinedRoom', (p) => p.room.id === roomId);
    await c.close();
    await r.start();
  }
  const frozen = [await cluster.node('comet-2'), await cluster.node('logic-1')];
  const tag = unique();
  let i = 0;
  const until = async (ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // Several senders' worth of load: a few messages at once, each with its own event.
      await Promise.all([0, 1, 2].map(() => postUntilAccepted(sender, roomId, `${tag}-${i++}`)));
      await sleep(30);
    }
  };
  await until(1500);
  for (const n of frozen) process.kill(Number(n.pid), 'SIGSTOP');
  const frozenAt = Date.now();
  try {
    await until(8000);
  } finally {
    for (const n of frozen) process.kill(Number(n.pid), 'SIGCONT');
  }
  console.log(`# frozen ${Date.now() - frozenAt} ms; ${i} messages sent, then none`);

  // The canonical room: its history, oldest first.
  const all = [];
  let anchor;
  for (;;) {
    sender.send('requestRoomHistory', { roomId, count: 100, ...(anchor ? { firstMessageId: anchor } : {}) });
    const page = await sender.next('serverRoomHistory', (p) => p.roomId === roomId && !p.resume, 15000);
    all.unshift(...page.messages.slice().reverse());
    if (!page.hasMoreMessages) break;
    anchor = page.messages.at(-1).id;
  }
  assert.equal(all.length, i, 'one message per client id');
  const expected = all.map((m) => m.id);
  const deadline = Date.now() + 25000;
  for (const [k, r] of receivers.entries()) {
    while (r.messages().length < expected.length && Date.now() < deadline && !r.error) await sleep(100);
    if (r.error) throw r.error;
    assert.deepEqual(r.messages().map((m) => m.id), expected, `receiver ${k} (closes: ${r.closes})`);
  }
  console.log(`# receivers' closes: ${receivers.map((r) => `[${r.closes}]`).join(' ')}`);
  await sleep(500);
  for (const [k, r] of receivers.entries()) assert.equal(r.messages().length, expected.length, `receiver ${k}: nothing twice`);
  for (const r of receivers) await r.close();
  await sender.close();
});
