// The comet batches its connections' clientMessages events into ReceiveBatch calls to Logic
// (src/rpc/logic_batcher.h). Many connections posting at once on one comet: every member gets
// every message exactly once and each sender's messages in the order sent; an event Logic
// refuses in the middle of a batch gets its own serverError and the others are accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './cluster.mjs';
import { createUser, Conn, unique } from '../lib/client.mjs';
import { get, sample } from '../lib/ops.mjs';

let cluster;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  if (cluster) await cluster.down();
});

async function open(wsUrl, user) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  c.hello = await c.next('hello');
  return c;
}

// `n` users on one comet, all members of one new room; returns [conns, roomId].
async function roomOf(n, prefix) {
  const wsUrl = await cluster.cometWs('comet-1');
  const users = await Promise.all(Array.from({ length: n }, () => createUser(cluster.url, prefix)));
  const conns = await Promise.all(users.map((u) => open(wsUrl, u)));
  const name = `batch ${unique()}`;
  conns[0].send('clientCreateRoom', { roomName: name });
  const roomId = (await conns[0].next('serverCreateRoom', (p) => p.roomName === name, 15000)).roomId;
  await Promise.all(conns.slice(1).map(async (c) => {
    c.send('clientJoinRoom', { roomId });
    await c.next('serverJoinedRoom', (p) => p.room.id === roomId, 15000);
  }));
  return [conns, roomId];
}

// Each sender's messages ("<sender>/<i>") exactly once and in order, `perSender` of each.
// ReceiveBatch calls served and messages accepted, summed over the Logics (their /metrics).
async function logicCounts() {
  const token = cluster.secret('metrics_token');
  let calls = 0;
  let accepted = 0;
  for (const node of (await cluster.status()).filter((n) => n.role === 'logic')) {
    const text = (await get(`http://${node.address}`, '/metrics', token)).text;
    calls += sample(text, 'roomcast_grpc_calls_total', 'code="OK",method="/roomcast.logic.Logic/ReceiveBatch"') ?? 0;
    accepted += sample(text, 'roomcast_messages_accepted_total') ?? 0;
  }
  return { calls, accepted };
}

function assertOncePerSenderInOrder(msgs, senders, perSender, who) {
  const bySender = new Map(senders.map((s) => [s, []]));
  for (const m of msgs) {
    const [sender, i] = m.content.split('/');
    bySender.get(sender).push(Number(i));
  }
  for (const [sender, got] of bySender)
    assert.deepEqual(got, Array.from({ length: perSender }, (_, i) => i), `${who} from ${sender}`);
  assert.equal(new Set(msgs.map((m) => m.id)).size, msgs.length, `${who}: an id twice`);
}

test('50 connections on one comet post 20 events each: every member gets all once, in order', async () => {
  const [conns, roomId] = await roomOf(50, 'bat');
  const senders = conns.map((_, k) => `s${k}`);
  const countsBefore = await logicCounts();
  // Every connection fires its 20 events at once: the comet's batches mix all of them.
  conns.forEach((c, k) => {
    for (let i = 0; i < 20; i++)
      c.send('clientMessages', { roomId, messages: [{ content: `s${k}/${i}`, clientId: `c${k}-${i}` }] });
  });
  for (const [k, c] of conns.entries()) {
    const msgs = await c.waitLive(roomId, 1000, 60000);
    assertOncePerSenderInOrder(msgs, senders, 20, `member ${k}`);
  }
  for (const c of conns) assert.deepEqual(c.events.filter((e) => e.type === 'serverError'), []);
  // The 1,000 events went in far fewer calls (each call carries what piled up meanwhile).
  const counts = await logicCounts();
  assert.equal(counts.accepted - countsBefore.accepted, 1000);
  const calls = counts.calls - countsBefore.calls;
  console.log(`# 1000 events in ${calls} ReceiveBatch calls`);
  assert.ok(calls > 0 && calls <= 500, `${calls} ReceiveBatch calls for 1000 events`);
  await Promise.all(conns.map((c) => c.close()));
});

test('an event refused in the middle of a batch gets its serverError; the others are accepted', async () => {
  const [conns, roomId] = await roomOf(30, 'bad');
  const [, elsewhere] = await roomOf(1, 'other');  // a room none of the 30 is in
  const senders = conns.map((_, k) => `s${k}`);
  const tooLong = 'x'.repeat(8 * 1024 + 1);
  conns.forEach((c, k) => {
    const post = (room, content) => c.send('clientMessages', { roomId: room, messages: [{ content }] });
    post(roomId, `s${k}/0`);
    post(roomId, tooLong);
    post(roomId, `s${k}/1`);
    post(elsewhere, `s${k}/not a member`);
    post(roomId, `s${k}/2`);
  });
  for (const [k, c] of conns.entries()) {
    const msgs = await c.waitLive(roomId, 90, 30000);
    assertOncePerSenderInOrder(msgs, senders, 3, `member ${k}`);
    await c.next('serverError', (p) => p.code === 'NOT_MEMBER', 10000);
    const errors = c.events.filter((e) => e.type === 'serverError').map((e) => e.payload);
    assert.deepEqual(errors.map((e) => [e.code, e.requestType]),
      [['TOO_LONG', 'clientMessages'], ['NOT_MEMBER', 'clientMessages']], `connection ${k}`);
  }
  await Promise.all(conns.map((c) => c.close()));
});

// Calls of one Logic method served, summed over the Logics.
async function callsOf(method) {
  const token = cluster.secret('metrics_token');
  let calls = 0;
  for (const node of (await cluster.status()).filter((n) => n.role === 'logic')) {
    const text = (await get(`http://${node.address}`, '/metrics', token)).text;
    calls += sample(text, 'roomcast_grpc_calls_total', `code="OK",method="/roomcast.logic.Logic/${method}"`) ?? 0;
  }
  return calls;
}

test('hello reads the first page of every room in one HistoryBatch call', async () => {
  const user = await createUser(cluster.url, 'hb');
  const before = { batch: await callsOf('HistoryBatch'), single: await callsOf('History') };
  const c = await open(await cluster.cometWs('comet-1'), user);
  assert.ok(c.hello.rooms.length >= 2, `${c.hello.rooms.length} rooms in hello`);
  const after = { batch: await callsOf('HistoryBatch'), single: await callsOf('History') };
  assert.equal(after.batch - before.batch, 1, 'one HistoryBatch call');
  assert.equal(after.single - before.single, 0, 'no page read room by room');
  await c.close();
});
