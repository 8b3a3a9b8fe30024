// The web client through the local cluster's entry point (nginx -> comets and logics), in
// headless Chromium: the browser sends its real Origin and cookies, so this fails when nginx
// stops passing Host or the forwarded headers to a node.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../cluster/cluster.mjs';
import {
  launchBrowser, registerUser, waitFor, unique, listedMessages, listedContents, openRoom, roomNames,
  sendMessage, socketEvents,
} from '../e2e/helpers.mjs';

describe('browser through the cluster', { timeout: 240000 }, () => {
  let cluster;
  let browser;
  let alice;
  let bob;

  before(async () => {
    [cluster, browser] = await Promise.all([startCluster({ comets: 2, logics: 2, jobs: 1 }), launchBrowser()]);
    alice = await registerUser(browser, cluster, 'alice');
    bob = await registerUser(browser, cluster, 'bob');
  });

  after(async () => {
    assert.deepEqual([...(alice?.errors || []), ...(bob?.errors || [])], [], 'no page errors');
    await browser?.close();
    await cluster?.down();
  });

  test('two people sign up and chat', async () => {
    const rooms = await roomNames(alice.page);
    assert.deepEqual(await roomNames(bob.page), rooms);
    const tag = unique();
    await openRoom(alice.page, rooms[0]);
    await openRoom(bob.page, rooms[0]);
    // The first records of a fresh cluster wait for the consumer group to settle.
    await sendMessage(alice.page, `hi bob ${tag}`);
    await waitFor(async () => (await listedContents(bob.page)).includes(`hi bob ${tag}`), {
      timeout: 30000, message: 'bob sees alice',
    });
    await sendMessage(bob.page, `hi alice ${tag}`);
    await waitFor(async () => (await listedContents(alice.page)).includes(`hi alice ${tag}`), {
      timeout: 15000, message: 'alice sees bob',
    });
    const theirs = (await listedMessages(alice.page)).find((m) => m.content === `hi alice ${tag}`);
    assert.equal(theirs.author, bob.user.username);
    assert.equal(theirs.own, false);
    // Each page kept one session: no socket was refused (1008 "origin not allowed") and retried.
    for (const person of [alice, bob]) {
      const hellos = (await socketEvents(person.page)).filter((e) => e.type === 'hello');
      assert.equal(hellos.length, 1, 'one hello per page');
    }
  });

  test('the entry point does not expose the operator endpoints', async () => {
    for (const endpoint of ['/metrics', '/healthz', '/readyz']) {
      const res = await fetch(cluster.url + endpoint);
      assert.equal(res.status, 404, endpoint);
    }
  });
});
