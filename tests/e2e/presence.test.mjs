// Browser tests of the presence UI (web/js/presence*.js) against a real `roomcast standalone`:
// the online count in the room header, the member list, "X is typing…" and the "New messages"
// divider from the server's read position. Locators go through roles and accessible names.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import {
  launchBrowser, registerUser, waitFor, composer, messageList, openRoom, sendMessage, roomNames, outputDir,
} from './helpers.mjs';

const GRACE = 500;

describe('presence in the browser client', { timeout: 120000 }, () => {
  let server;
  let browser;
  let alice;
  let bob;
  let room;

  before(async () => {
    [server, browser] = await Promise.all([
      startServer({ extraArgs: ['--presence-grace-ms', `${GRACE}`, '--presence-window-ms', '200'] }),
      launchBrowser(),
    ]);
    alice = await registerUser(browser, server, 'alice');
    bob = await registerUser(browser, server, 'bob');
    [room] = await roomNames(alice.page);
    await openRoom(alice.page, room);
    await openRoom(bob.page, room);
  });

  after(async () => {
    assert.deepEqual([...(alice?.errors || []), ...(bob?.errors || [])], [], 'no page errors');
    await browser?.close();
    await server?.stop();
  });

  const onlineButton = (page) => page.getByRole('button', { name: /online: show the member list$/ });

  test('the room header counts who is online and the member list shows them, online first', async () => {
    await waitFor(async () => (await onlineButton(alice.page).textContent()).trim() === '2 online', { message: '2 online' });
    assert.equal(await onlineButton(alice.page).getAttribute('aria-label'), '2 members online: show the member list');
    await onlineButton(alice.page).click();
    const panel = alice.page.getByRole('complementary', { name: 'Members' });
    await panel.waitFor();
    const members = panel.getByRole('list', { name: 'Members' }).getByRole('listitem');
    await waitFor(async () => (await members.count()) === 2, { message: 'two members listed' });
    const names = await members.allTextContents();
    assert.ok(names.every((n) => n.endsWith('(online)')), names.join());
    await alice.page.screenshot({ path: path.join(outputDir, 'presence-desktop.png') });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.waitForTimeout(200);
    await alice.page.screenshot({ path: path.join(outputDir, 'presence-phone.png') });
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alice.page.keyboard.press('Tab');  // the panel's close button is reachable by keyboard
    await alice.page.getByRole('button', { name: 'Hide the member list' }).press('Enter');
    assert.equal(await panel.isVisible(), false);
    assert.equal(await onlineButton(alice.page).getAttribute('aria-expanded'), 'false');
  });

  test('"X is typing…" appears for the others, not for the typer', async () => {
    await composer(bob.page).pressSequentially('hel');
    const line = alice.page.getByText(`${bob.user.username} is typing…`);
    await line.waitFor({ timeout: 5000 });
    assert.equal(await bob.page.locator('#typing').textContent(), '');
    await composer(bob.page).fill('');
  });

  test('a reopened page divides what is new by the server read position', async () => {
    const page = alice.page;
    await sendMessage(bob.page, 'seen by alice');
    await waitFor(async () => (await messageList(page).textContent()).includes('seen by alice'), { message: 'seen' });
    await page.waitForTimeout(400);  // the read position reaches the server
    await page.close();
    await sendMessage(bob.page, 'new for alice 1');
    await sendMessage(bob.page, 'new for alice 2');
    alice.page = await alice.context.newPage();
    alice.page.on('pageerror', (error) => alice.errors.push(error.message));
    await alice.page.goto(server.url);
    await openRoom(alice.page, room);
    const divider = messageList(alice.page).getByRole('separator').filter({ hasText: 'New messages' });
    await divider.waitFor();
    // It heads the first message alice has not read.
    assert.equal(await divider.evaluate((d) => d.parentElement.querySelector('.content').textContent),
      'new for alice 1');
  });

  test('a user who leaves is counted out after the grace', async () => {
    await bob.context.close();
    await waitFor(async () => (await onlineButton(alice.page).textContent()).trim() === '1 online',
      { timeout: GRACE + 5000, message: '1 online' });
  });
});
