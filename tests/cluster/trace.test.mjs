// One grep follows a message across the layers: with LOG_FORMAT=json and LOG_LEVEL=debug, the
// trace id the accepting comet gives a clientMessages event appears in that comet's log, in a
// logic's, in a job's (with the message's id) and in the log of every comet that pushes it, each
// line a JSON object with time, level, role and node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from './cluster.mjs';
import { createUser, Conn, unique, sleep } from '../lib/client.mjs';

let cluster;
before(async () => {
  cluster = await startCluster({ comets: 2, logics: 1, jobs: 1, env: { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' } });
});
after(async () => { await cluster?.down(); });

async function open(wsUrl, user) {
  const c = await Conn.open(wsUrl, { cookie: user.cookie, origin: `http://${new URL(wsUrl).host}` });
  c.hello = await c.next('hello');
  return c;
}

// {nodeId: [parsed lines]} for every node; a line that is not JSON fails the test.
function nodeLogs() {
  const logs = {};
  const nodes = path.join(cluster.dir, 'nodes');
  for (const id of readdirSync(nodes)) {
    const text = readFileSync(path.join(nodes, id, 'log'), 'utf8');
    logs[id] = text.split('\n').filter((l) => l !== '').map((l) => {
      try { return JSON.parse(l); } catch { assert.fail(`${id}: not a JSON line: ${l}`); }
    });
  }
  return logs;
}

// The lines carrying `trace`, per node, once `done` says they are all there (logs are written
// as they happen, but the hops run on other processes).
async function traced(trace, done, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = {};
    for (const [id, lines] of Object.entries(nodeLogs())) {
      const mine = lines.filter((l) => l.trace === trace);
      if (mine.length) found[id] = mine;
    }
    if (done(found)) return found;
    if (Date.now() > deadline) assert.fail(`trace ${trace} only in ${JSON.stringify(found, null, 1)}`);
    await sleep(100);
  }
}

test('a message\'s trace id is in the accepting comet\'s, a logic\'s, a job\'s and both pushing comets\' logs', async () => {
  const alice = await open(await cluster.cometWs('comet-1'), await createUser(cluster.url, 'alice'));
  const bob = await open(await cluster.cometWs('comet-2'), await createUser(cluster.url, 'bob'));
  const room = alice.hello.rooms[0].id;
  const tag = unique();
  // The first records wait for the consumer group to settle.
  alice.send('clientMessages', { roomId: room, messages: [{ content: `hi ${tag}`, clientId: tag }] });
  const got = await bob.next('serverMessages', (p) => p.messages.some((m) => m.clientId === tag), 30000);
  const id = got.messages.find((m) => m.clientId === tag).id;
  const me = alice.hello.me.id;

  const accepted = nodeLogs()['comet-1'].find((l) => l.message.startsWith('comet: clientMessages with') && l.user === me);
  assert.ok(accepted, 'comet-1 logged the event');
  const trace = accepted.trace;
  assert.match(trace, /^[0-9a-f]{16}$/);
  const pushed = (lines) => lines?.some((l) => l.message.startsWith('comet: pushing') && l.msg === id);
  const found = await traced(trace, (f) => pushed(f['comet-1']) && pushed(f['comet-2']));

  const roles = Object.fromEntries(Object.entries(found).map(([node, lines]) => [node, lines[0].role]));
  assert.deepEqual(roles, { 'comet-1': 'comet', 'comet-2': 'comet', 'job-1': 'job', 'logic-1': 'logic' });
  const line = (node, prefix) => {
    const l = found[node].find((x) => x.message.startsWith(prefix));
    assert.ok(l, `${node}: ${prefix} in ${JSON.stringify(found[node])}`);
    assert.equal(l.node, node);
    assert.equal(l.level, 'debug');
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(l.user, me);
    assert.equal(l.room, room);
    return l;
  };
  line('comet-1', 'comet: clientMessages with');
  line('logic-1', 'logic: 1 messages accepted');
  assert.equal(line('job-1', 'job: message stored').msg, id);
  assert.equal(line('comet-1', 'comet: pushing').msg, id);
  assert.equal(line('comet-2', 'comet: pushing').msg, id);
  await alice.close();
  await bob.close();
});
