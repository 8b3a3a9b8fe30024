// Unit tests of the web client's state logic (web/js/client.js): merge, dedupe, resume and
// gap filling, pending messages. No browser, no server: fast, and covers the cases that are
// hard to provoke end to end (e.g. more missed than the resume replay limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatClient } from '../../web/js/client.js';
import { compareIds } from '../../web/js/ids.js';

const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };

const msg = (seq, user = bob, extra = {}) => ({
  id: `${seq}-0`, user, content: `m${seq}`, timestamp: 1700000000000 + seq, ...extra,
});
const range = (from, to, user) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i, user));
const newestFirst = (messages) => [...messages].reverse();
const room = (id, messages, hasMoreMessages = false) => ({
  id, name: id, messages: newestFirst(messages), hasMoreMessages,
});

// Manual timers so resume timeouts are deterministic.
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    setTimeout(fn) { pending.set(next, fn); return next++; },
    clearTimeout(id) { pending.delete(id); },
    runAll() { for (const [id, fn] of [...pending]) { pending.delete(id); fn(); } },
  };
}

function makeClient() {
  const sent = [];
  const notices = [];
  const timers = fakeTimers();
  const client = new ChatClient({
    send: (type, payload) => sent.push({ type, payload }),
    onNotice: (kind, text) => notices.push({ kind, text }),
    timers,
  });
  return { client, sent, notices, timers };
}

const seqs = (client, roomId) => client.rooms.get(roomId).messages.map((m) => Number(m.id.split('-')[0]));

test('ids compare as integer pairs, not strings', () => {
  assert.ok(compareIds('10-0', '9-0') > 0);
  assert.ok(compareIds('2-1', '2-0') > 0);
  assert.ok(compareIds('100-0', '100-0') === 0);
  assert.ok(compareIds('0-0', '1-0') < 0);
});

test('hello, live messages and history merge in order without duplicates', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(51, 100), true), room('random', [])] } });
  assert.deepEqual([...client.rooms.keys()], ['general', 'random']);
  assert.equal(client.currentRoomId, 'general');
  client.handleEvent({ type: 'serverMessages', payload: { roomId: 'general', messages: [msg(101), msg(100)] } });
  assert.deepEqual(seqs(client, 'general'), range(51, 101).map((m) => Number(m.id.split('-')[0])));
  assert.equal(client.loadOlder('general'), true);
  assert.deepEqual(sent.at(-1), { type: 'requestRoomHistory', payload: { roomId: 'general', firstMessageId: '51-0' } });
  assert.equal(client.loadOlder('general'), false, 'one request at a time');
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(1, 50)), hasMoreMessages: false } });
  assert.equal(client.rooms.get('general').messages.length, 101);
  assert.equal(client.rooms.get('general').hasMore, false);
  assert.equal(client.loadOlder('general'), false, 'no more history');
  // Ids 9-0 and 10-0 must sort numerically.
  assert.deepEqual(seqs(client, 'general').slice(8, 11), [9, 10, 11]);
});

test('unread counts messages from others in rooms that are not open', () => {
  const { client } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', []), room('random', range(1, 3))] } });
  const random = client.rooms.get('random');
  assert.equal(client.unreadCount(random), 0);
  client.handleEvent({ type: 'serverMessages', payload: { roomId: 'random', messages: [msg(4), msg(5, alice), msg(6)] } });
  assert.equal(client.unreadCount(random), 2);
  client.openRoom('random');
  assert.equal(client.unreadCount(random), 0);
});

test('pending messages are sent once connected, re-sent with the same clientId, confirmed by echo', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(1, 2))] } });
  const first = client.sendMessage('general', 'hi');
  assert.equal(sent.at(-1).type, 'clientMessages');
  assert.deepEqual(sent.at(-1).payload, { roomId: 'general', messages: [{ content: 'hi', clientId: first.clientId }] });
  client.connectionLost();
  const second = client.sendMessage('general', 'while offline');
  const sentBefore = sent.length;
  assert.equal(sent.length, sentBefore, 'nothing sent while offline');
  assert.equal(client.pendingFor('general').length, 2);
  // Reconnect: the server had accepted "hi" (it is in the hello page).
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', [...range(1, 2), msg(3, alice, { content: 'hi', clientId: first.clientId })])] } });
  const resent = sent.slice(sentBefore).filter((e) => e.type === 'clientMessages');
  assert.deepEqual(resent.map((e) => e.payload.messages[0].clientId), [second.clientId]);
  assert.deepEqual(client.pendingFor('general').map((p) => p.clientId), [second.clientId]);
  client.handleEvent({ type: 'serverMessages', payload: { roomId: 'general', messages: [msg(4, alice, { content: 'while offline', clientId: second.clientId })] } });
  assert.equal(client.pendingFor('general').length, 0);
  assert.deepEqual(seqs(client, 'general'), [1, 2, 3, 4]);
});

test('reconnect: hello page after a gap is held until the resume answer, then merged gap-free', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(1, 10)), room('random', [])] } });
  client.connectionLost();
  // 80 messages were posted while we were away; the new hello shows the newest 50.
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(41, 90), true), room('random', [])] } });
  assert.deepEqual(sent.find((e) => e.type === 'clientResume').payload, {
    rooms: [{ roomId: 'general', lastMessageId: '10-0' }, { roomId: 'random', lastMessageId: '0-0' }],
  });
  assert.deepEqual(seqs(client, 'general'), range(1, 10).map((_, i) => i + 1), 'nothing shown with a gap');
  // A live message arrives before the resume answer.
  client.handleEvent({ type: 'serverMessages', payload: { roomId: 'general', messages: [msg(91)] } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(11, 40)), hasMoreMessages: false, resume: true } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'random', messages: [], hasMoreMessages: false, resume: true } });
  assert.deepEqual(seqs(client, 'general'), Array.from({ length: 91 }, (_, i) => i + 1));
  assert.equal(client.unreadCount(client.rooms.get('general')), 81, 'missed messages count as unread until seen');
});

test('reconnect: overlapping hello page merges at once; resume answers are idempotent', () => {
  const { client } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(1, 60), true)] } });
  client.connectionLost();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(15, 64), true)] } });
  assert.equal(client.rooms.get('general').messages.at(-1).id, '64-0');
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: [], hasMoreMessages: false, resume: true } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: [msg(62), msg(61)], hasMoreMessages: false, resume: true } });
  assert.deepEqual(seqs(client, 'general'), Array.from({ length: 64 }, (_, i) => i + 1));
  assert.equal(client.rooms.get('general').hasMore, true, 'older end unchanged');
});

test('reconnect: more missed than the replay limit is filled by paging back to the old segment', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(51, 100), true)] } });
  client.connectionLost();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(951, 1000), true)] } });
  // Replay limit 500: messages 451..950 replayed, 101..450 still missing.
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(451, 950)), hasMoreMessages: true, resume: true } });
  const r = client.rooms.get('general');
  assert.equal(r.messages[0].id, '451-0', 'newer segment shown alone, no visible gap');
  let request = sent.at(-1);
  let guard = 0;
  while (request.type === 'requestRoomHistory' && guard++ < 20) {
    const before = Number(request.payload.firstMessageId.split('-')[0]);
    const count = request.payload.count || 50;
    const from = Math.max(1, before - count);
    const messages = newestFirst(range(from, before - 1));
    const lengthBefore = sent.length;
    client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages, hasMoreMessages: from > 1 } });
    request = sent.length > lengthBefore ? sent.at(-1) : { type: 'none' };
  }
  assert.equal(r.detached, null);
  assert.deepEqual(seqs(client, 'general'), Array.from({ length: 950 }, (_, i) => i + 51));
  assert.equal(r.hasMore, true, 'older than the old segment still exists');
});

test('a gap fill interrupted by another reconnect resumes paging', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(1, 10))] } });
  client.connectionLost();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(151, 200), true)] } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(101, 150)), hasMoreMessages: true, resume: true } });
  assert.ok(client.rooms.get('general').detached, 'gap being filled');
  client.connectionLost(); // before the page arrives
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(251, 300), true)] } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(201, 250)), hasMoreMessages: false, resume: true } });
  const request = sent.at(-1);
  assert.equal(request.type, 'requestRoomHistory');
  assert.equal(request.payload.firstMessageId, '101-0');
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(1, 100)), hasMoreMessages: false } });
  assert.equal(client.rooms.get('general').detached, null);
  assert.deepEqual(seqs(client, 'general'), Array.from({ length: 300 }, (_, i) => i + 1));
});

test('resume without an answer falls back to paging', () => {
  const { client, sent, timers } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(1, 5))] } });
  client.connectionLost();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', range(60, 109), true)] } });
  timers.runAll();
  assert.deepEqual(sent.at(-1), { type: 'requestRoomHistory', payload: { roomId: 'general', firstMessageId: '60-0', count: 100 } });
  client.handleEvent({ type: 'serverRoomHistory', payload: { roomId: 'general', messages: newestFirst(range(1, 59)), hasMoreMessages: false } });
  assert.deepEqual(seqs(client, 'general'), Array.from({ length: 109 }, (_, i) => i + 1));
});

test('create, join and leave rooms', () => {
  const { client, sent } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', [])] } });
  client.createRoom('  plans ');
  assert.deepEqual(sent.at(-1), { type: 'clientCreateRoom', payload: { roomName: 'plans' } });
  client.handleEvent({ type: 'serverCreateRoom', payload: { roomId: 'r9', roomName: 'other' } });
  assert.ok(client.known.has('r9'), 'created by someone else: joinable');
  client.handleEvent({ type: 'serverCreateRoom', payload: { roomId: 'r10', roomName: 'plans' } });
  assert.ok(client.rooms.has('r10'), 'the creator is a member');
  assert.equal(client.currentRoomId, 'r10');
  client.joinRoom('r9');
  client.handleEvent({ type: 'serverJoinedRoom', payload: { room: room('r9', range(1, 3)) } });
  assert.ok(client.rooms.has('r9') && !client.known.has('r9'));
  assert.equal(client.currentRoomId, 'r9');
  client.leaveRoom('r9');
  client.handleEvent({ type: 'serverLeftRoom', payload: { roomId: 'r9' } });
  assert.ok(!client.rooms.has('r9') && client.known.has('r9'));
  assert.equal(client.currentRoomId, 'general');
});

test('serverError is reported and RATE_LIMITED messages are re-sent', () => {
  const { client, sent, notices, timers } = makeClient();
  client.handleEvent({ type: 'hello', payload: { me: alice, rooms: [room('general', [])] } });
  const p = client.sendMessage('general', 'x');
  client.handleEvent({ type: 'serverError', payload: { code: 'RATE_LIMITED', message: 'Slow down', requestType: 'clientMessages' } });
  assert.deepEqual(notices, [{ kind: 'error', text: 'Slow down' }]);
  const before = sent.length;
  timers.runAll();
  assert.equal(sent.length, before + 1);
  assert.equal(sent.at(-1).payload.messages[0].clientId, p.clientId);
});
