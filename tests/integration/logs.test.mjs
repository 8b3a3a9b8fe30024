// Structured logs over a real standalone server: with `--log-format json --log-level debug`
// every line is one JSON object, and a message's trace id appears where the comet accepts it,
// where Logic accepts it, where Job stores it and where the comet pushes it (with the message's
// id); refusals are logged at info with the trace, without the debug hops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { api, createUser, connect, unique, sleep } from '../lib/client.mjs';

const own = { skip: process.env.ROOMCAST_URL ? 'needs its own server' : false };

// Every line of the output as JSON (a line that is not is a failure).
function jsonLines(output) {
  return output.split('\n').filter((l) => l !== '').map((l) => {
    try { return JSON.parse(l); } catch { assert.fail(`not a JSON line: ${l}`); }
  });
}

async function linesUntil(server, pred, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const lines = jsonLines(server.output());
    if (pred(lines)) return lines;
    if (Date.now() > deadline) assert.fail(`log lines not found in:\n${server.output()}`);
    await sleep(20);
  }
}

test('a message\'s trace id follows it from accept to push in JSON debug lines', own, async () => {
  const s = await startServer({ extraArgs: ['--log-format', 'json', '--log-level', 'debug'] });
  try {
    const a = await connect(s, await createUser(s.url, 'alice'));
    const room = a.hello.rooms[0].id;
    const me = a.hello.me.id;
    const tag = unique();
    a.send('clientMessages', { roomId: room, messages: [{ content: `hi ${tag}`, clientId: tag }] });
    const got = await a.next('serverMessages', (p) => p.messages.some((m) => m.clientId === tag));
    const id = got.messages.find((m) => m.clientId === tag).id;

    const accepted = (l) => l.message.startsWith('comet: clientMessages with') && l.user === me;
    const lines = await linesUntil(s, (ls) => {
      const trace = ls.find(accepted)?.trace;
      return trace && ls.some((l) => l.trace === trace && l.message.startsWith('comet: pushing'));
    });
    const trace = lines.find(accepted).trace;
    assert.match(trace, /^[0-9a-f]{16}$/);
    const hops = lines.filter((l) => l.trace === trace);
    const hop = (prefix) => hops.find((l) => l.message.startsWith(prefix));
    for (const prefix of ['comet: clientMessages', 'logic: 1 messages accepted', 'job: message stored', 'comet: pushing']) {
      const l = hop(prefix);
      assert.ok(l, `${prefix}: ${JSON.stringify(hops)}`);
      assert.equal(l.level, 'debug');
      assert.equal(l.role, 'standalone');
      assert.equal(l.user, me);
      assert.equal(l.room, room);
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.equal(hop('job: message stored').msg, id);
    assert.equal(hop('comet: pushing').msg, id);
    // Another event gets another trace.
    a.send('clientMessages', { roomId: room, messages: [{ content: 'again' }] });
    await a.next('serverMessages', (p) => p.messages.some((m) => m.content === 'again'));
    const traces = new Set(jsonLines(s.output()).filter(accepted).map((l) => l.trace));
    assert.equal(traces.size, 2);
    // A close names the user too.
    await a.close();
    await linesUntil(s, (ls) => ls.some((l) => /^comet: connection \d+ closed by the client \(1005\)$/.test(l.message) && l.user === me));
  } finally {
    await s.stop();
  }
});

test('a push-API event gets a trace id in Logic that Job logs too', own, async () => {
  const token = `admin-${unique()}`;
  const s = await startServer({ extraArgs: ['--log-format', 'json', '--log-level', 'debug'], env: { ROOMCAST_ADMIN_TOKEN: token } });
  try {
    const a = await connect(s, await createUser(s.url, 'ann'));
    const room = a.hello.rooms[0].id;
    const res = await api(s.url, '/api/push/room', { token, body: { roomId: room, op: 7, body: { x: 1 } } });
    assert.equal(res.status, 200, res.text);
    await a.next('serverPush');
    const lines = await linesUntil(s, (ls) => ls.some((l) => l.message.startsWith('job: pushing a push-API')));
    const logic = lines.find((l) => l.message.startsWith('logic: push-API event'));
    assert.match(logic.trace, /^[0-9a-f]{16}$/);
    assert.equal(logic.room, room);
    const job = lines.find((l) => l.message.startsWith('job: pushing a push-API'));
    assert.equal(job.trace, logic.trace);
    await a.close();
  } finally {
    await s.stop();
  }
});

test('at info a refused message is logged with its trace, and the hops are not', own, async () => {
  const s = await startServer({ extraArgs: ['--log-format', 'text'] });
  try {
    const a = await connect(s, await createUser(s.url, 'bo'));
    const room = a.hello.rooms[0].id;
    const me = a.hello.me.id;
    a.send('clientMessages', { roomId: 'no-such-room', messages: [{ content: 'x' }] });
    const err = await a.next('serverError');
    assert.equal(err.code, 'UNKNOWN_ROOM');
    a.send('clientMessages', { roomId: room, messages: [{ content: 'fine' }] });
    await a.next('serverMessages', (p) => p.messages.some((m) => m.content === 'fine'));
    await a.close();
    await s.stop();
    const refused = s.output().split('\n').filter((l) => l.includes('logic: messages refused'));
    assert.equal(refused.length, 1, s.output());
    assert.match(refused[0], new RegExp(` info .*UNKNOWN_ROOM.* user=${me} room=no-such-room trace=[0-9a-f]{16}$`));
    assert.doesNotMatch(s.output(), /clientMessages with|messages accepted|message stored|pushing a message/);
  } finally {
    await s.stop();
  }
});
