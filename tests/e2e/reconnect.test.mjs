// Reconnect paths that a plain restart does not reach deterministically. The page's socket
// goes through Playwright's WebSocket routing, so the test can cut it, keep it down while
// other users post, and drop the server's echoes. The server runs with small pages and a
// small resume replay limit so the "more missed than the replay limit" path is exercised.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import {
  launchBrowser, registerUser, waitFor, unique, listedMessages, sendMessage, socketFor, seqOf,
  socketEvents, roomNames,
} from './helpers.mjs';

const REPLAY_MAX = 20;
const HISTORY_PAGE = 10;

// Routes the page's /api/ws through the test: `cut()` closes the live socket (and refuses
// new ones while `blocked`); `dropFromServer` swallows server → page frames.
async function controllableSocket(context) {
  const control = { blocked: false, dropFromServer: false, current: null, connections: 0 };
  await context.routeWebSocket(/\/api\/ws$/, (ws) => {
    if (control.blocked) {
      ws.close({ code: 4000, reason: 'blocked by test' });
      return;
    }
    control.connections++;
    control.current = ws;
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (!control.dropFromServer) ws.send(message);
    });
  });
  control.cut = async () => {
    control.blocked = true;
    await control.current?.close({ code: 4000, reason: 'cut by test' });
  };
  // Lets connections through again and waits for the page to reconnect, pressing
  // "Retry now" when it is offered (the backoff timer may also win the race).
  control.restore = async (page) => {
    const connectionsBefore = control.connections;
    control.blocked = false;
    const retry = page.getByRole('button', { name: 'Retry now', exact: true });
    await waitFor(async () => {
      if (control.connections > connectionsBefore) return true;
      if (await retry.isVisible()) await retry.click({ timeout: 1000 }).catch(() => {});
      return false;
    }, { timeout: 20000, interval: 100, message: 'the page to reconnect' });
  };
  return control;
}

describe('reconnect', { timeout: 90000 }, () => {
  let server;
  let browser;
  let alice;
  let aliceSocket;
  let bob;
  let bobSocket;
  let roomName;
  let roomId;

  before(async () => {
    [server, browser] = await Promise.all([
      startServer({ extraArgs: ['--resume-replay-max', String(REPLAY_MAX), '--history-page', String(HISTORY_PAGE)] }),
      launchBrowser(),
    ]);
    alice = await registerUser(browser, server, 'alice', { setup: async (context) => { aliceSocket = await controllableSocket(context); } });
    bob = await registerUser(browser, server, 'bob');
    bobSocket = await socketFor(server, bob.context);
    roomName = (await roomNames(alice.page))[0];
    roomId = bobSocket.hello.payload.rooms.find((r) => r.name === roomName).id;
  });

  after(async () => {
    assert.deepEqual(alice?.errors || [], [], 'no page errors');
    await bobSocket?.close();
    await browser?.close();
    await server?.stop();
  });

  // Waits until the page's list equals the server's history of the room (polling both, since
  // re-sent messages may still be on their way), then asserts it with a readable diff.
  async function expectListEqualsServer(page) {
    const snapshot = async () => ({
      expected: (await bobSocket.history(roomId)).map((m) => ({ id: m.id, content: m.content })),
      shown: (await listedMessages(page)).map((m) => ({ id: m.id, content: m.content })),
    });
    let last;
    await waitFor(async () => {
      last = await snapshot();
      return JSON.stringify(last.shown) === JSON.stringify(last.expected);
    }, { timeout: 15000, message: 'list to equal the server history' }).catch(() => {});
    assert.deepEqual(last.shown, last.expected, 'DOM list equals the server history');
    assert.deepEqual(last.expected.map((m) => seqOf(m.id)), last.expected.map((_, i) => i + 1), 'server history is contiguous');
  }

  test('more missed than the replay limit: the gap is paged in, nothing twice', async () => {
    const { page } = alice;
    await bobSocket.post(roomId, Array.from({ length: 15 }, (_, i) => `early ${i + 1}`));
    await waitFor(async () => (await listedMessages(page)).some((m) => m.content === 'early 15'), { message: 'early messages' });

    await aliceSocket.cut();
    await waitFor(async () => (await page.locator('#conn-text').textContent()) !== 'Online', { message: 'offline indicator' });
    await sendMessage(page, 'typed while offline');
    // 75 missed: the new hello page holds 10, the resume answer 20, the rest must be paged.
    await bobSocket.post(roomId, Array.from({ length: 75 }, (_, i) => `missed ${i + 1}`));
    await aliceSocket.restore(page);

    await expectListEqualsServer(page);
    const contents = (await listedMessages(page)).map((m) => m.content);
    assert.equal(contents.filter((c) => c === 'typed while offline').length, 1);
    assert.equal(contents.at(-1), 'typed while offline', 'sent after the reconnect, so last');
    const resumed = (await socketEvents(page)).filter((e) => e.type === 'serverRoomHistory' && e.resume && e.roomId === roomId);
    assert.ok(resumed.some((e) => e.messages === REPLAY_MAX && e.hasMore), `a full resume answer with more to fetch: ${JSON.stringify(resumed)}`);
  });

  test('an accepted message whose echo was lost is confirmed once after the reconnect', async () => {
    const { page } = alice;
    aliceSocket.dropFromServer = true;
    const text = `echo lost ${unique()}`;
    await sendMessage(page, text);
    // The server accepted it (bob sees it) but alice's page never got the echo.
    await waitFor(() => bobSocket.events.some((e) => e.type === 'serverMessages' && e.payload.messages.some((m) => m.content === text)), { message: 'bob receives it' });
    assert.equal((await listedMessages(page)).find((m) => m.content === text).pending, true);
    await aliceSocket.cut();
    aliceSocket.dropFromServer = false;
    await aliceSocket.restore(page);
    // The client re-sends it with the same clientId: the server must not create a second one.
    await expectListEqualsServer(page);
    assert.equal((await listedMessages(page)).filter((m) => m.content === text).length, 1);
    assert.equal((await bobSocket.history(roomId)).filter((m) => m.content === text).length, 1);
  });
});
