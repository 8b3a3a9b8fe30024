// End-to-end tests of the browser client (web/) against a real `roomcast standalone`.
// Locators go through roles and labels, so the accessibility contract is tested too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from '../lib/server.mjs';
import {
  launchBrowser, registerUser, waitFor, unique, composer, messageList, roomButton, roomNames,
  listedMessages, listedContents, openRoom, sendMessage, socketFor, seqOf, outputDir, socketEvents,
} from './helpers.mjs';

describe('browser client', { timeout: 120000 }, () => {
  let server;
  let browser;
  let alice;
  let bob;
  let defaultRooms;
  const adminToken = `admin-${unique()}`;
  const serverEnv = { ROOMCAST_ADMIN_TOKEN: adminToken };

  before(async () => {
    [server, browser] = await Promise.all([startServer({ env: serverEnv }), launchBrowser()]);
    alice = await registerUser(browser, server, 'alice');
    bob = await registerUser(browser, server, 'bob');
    defaultRooms = await roomNames(alice.page);
  });

  after(async () => {
    assert.deepEqual([...(alice?.errors || []), ...(bob?.errors || [])], [], 'no page errors');
    await browser?.close();
    await server?.stop();
  });

  test('two users chat in two rooms and see each other', async () => {
    assert.ok(defaultRooms.length >= 2, `at least two default rooms, got ${defaultRooms}`);
    assert.deepEqual(await roomNames(bob.page), defaultRooms);
    const [first, second] = defaultRooms;
    const tag = unique();

    await openRoom(alice.page, first);
    await openRoom(bob.page, first);
    await sendMessage(alice.page, `hi bob ${tag}`);
    await waitFor(async () => (await listedContents(bob.page)).includes(`hi bob ${tag}`), { message: 'bob sees alice' });
    await sendMessage(bob.page, `hi alice ${tag}`);
    await waitFor(async () => (await listedContents(alice.page)).includes(`hi alice ${tag}`), { message: 'alice sees bob' });

    // Own messages are marked, others' carry the author; nothing left pending.
    const aliceView = await listedMessages(alice.page);
    const mine = aliceView.find((m) => m.content === `hi bob ${tag}`);
    const theirs = aliceView.find((m) => m.content === `hi alice ${tag}`);
    assert.equal(mine.own, true);
    assert.equal(mine.pending, false);
    assert.equal(theirs.own, false);
    assert.equal(theirs.author, bob.user.username);
    assert.ok(seqOf(mine.id) < seqOf(theirs.id));

    // Second room: Shift+Enter makes a new line, the Send button sends.
    await openRoom(alice.page, second);
    await composer(alice.page).fill('line one');
    await composer(alice.page).press('Shift+Enter');
    await composer(alice.page).pressSequentially(`line two ${tag}`);
    await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.equal(await composer(alice.page).inputValue(), '');

    // Bob is still in the first room: the second one shows an unread badge.
    const bobsSecond = roomButton(bob.page, second);
    await waitFor(async () => (await bobsSecond.getAttribute('aria-description')) === '1 unread', { message: 'unread badge' });
    assert.equal(await bobsSecond.locator('.badge').textContent(), '1');
    await openRoom(bob.page, second);
    await waitFor(async () => (await listedContents(bob.page)).includes(`line one\nline two ${tag}`), { message: 'multi-line message' });
    assert.equal(await bobsSecond.getAttribute('aria-description'), null, 'badge cleared when opened');
    // Only the open room's messages are listed.
    assert.ok(!(await listedContents(bob.page)).includes(`hi bob ${tag}`));

    // Keyboard: Alt+ArrowUp goes back to the first room.
    await composer(bob.page).press('Alt+ArrowUp');
    await waitFor(async () => (await listedContents(bob.page)).includes(`hi bob ${tag}`), { message: 'Alt+ArrowUp switches room' });
  });

  test('a created room appears for others as joinable; join, chat and leave', async () => {
    const name = `plans-${unique()}`;
    await alice.page.getByLabel('Room name', { exact: true }).fill(name);
    await alice.page.getByRole('button', { name: 'Create room', exact: true }).click();
    await waitFor(async () => (await alice.page.getByRole('heading', { level: 1 }).textContent()) === `# ${name}`, { message: 'creator opens the new room' });
    assert.ok((await roomNames(alice.page)).includes(name));

    // Bob learns of it through serverCreateRoom: listed under "Other rooms" with a Join action.
    const joinButton = bob.page.getByRole('button', { name: `Join ${name}`, exact: true });
    await joinButton.waitFor();
    assert.ok(!(await roomNames(bob.page)).includes(name), 'not joined yet');
    await joinButton.click();
    await waitFor(async () => (await roomNames(bob.page)).includes(name), { message: 'bob joined' });
    await waitFor(async () => (await bob.page.getByRole('heading', { level: 1 }).textContent()) === `# ${name}`, { message: 'joined room opens' });

    await sendMessage(alice.page, 'welcome to the new room');
    await waitFor(async () => (await listedContents(bob.page)).includes('welcome to the new room'), { message: 'message in created room' });

    await bob.page.getByRole('button', { name: 'Leave room', exact: true }).click();
    await joinButton.waitFor();
    assert.ok(!(await roomNames(bob.page)).includes(name), 'left');
  });

  test('forms show API errors; log out and log back in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    // Not logged in: the socket closes with 1008 and the login form shows.
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();

    await page.getByLabel('Email', { exact: true }).fill(alice.user.email);
    await page.getByLabel('Password', { exact: true }).fill('wrong password!');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    const alert = page.getByRole('alert');
    await waitFor(async () => (await alert.textContent()).trim().length > 0, { message: 'login error' });

    // Registering an existing email shows the server's message at the email field.
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByLabel('Username', { exact: true }).fill(`other${unique()}`);
    await page.getByLabel('Email', { exact: true }).fill(alice.user.email.toUpperCase());
    await page.getByLabel('Password', { exact: true }).fill('long enough password');
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await waitFor(async () => (await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid')) === 'true', { message: 'email flagged' });
    assert.ok((await page.locator('#auth-email-error').textContent()).length > 0);
    await page.getByRole('button', { name: 'Sign in instead', exact: true }).click();

    await page.getByLabel('Email', { exact: true }).fill(alice.user.email);
    await page.getByLabel('Password', { exact: true }).fill(alice.user.password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await composer(page).waitFor();
    assert.equal(await page.locator('#me-name').textContent(), alice.user.username);

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor(); // session revoked
    await context.close();
  });

  test('scrolling up loads older pages until the first message, keeping the position', async () => {
    const { page } = alice;
    const name = `history-${unique()}`;
    await page.getByLabel('Room name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create room', exact: true }).click();
    await waitFor(async () => (await roomNames(page)).includes(name), { message: 'history room created' });
    // Post through a raw socket with alice's cookie: much faster than typing.
    const socket = await socketFor(server, alice.context);
    const roomId = socket.hello.payload.rooms.find((r) => r.name === name).id;
    const sent = Array.from({ length: 120 }, (_, i) => `history message ${String(i + 1).padStart(3, '0')}`);
    await socket.post(roomId, sent);
    await socket.close();

    // Reload so the room is loaded the normal way: one page in hello, the rest on scroll.
    await page.reload();
    await composer(page).waitFor();
    await openRoom(page, name);
    const list = messageList(page);
    await waitFor(async () => (await listedContents(page)).includes(sent[119]), { message: 'latest page' });
    const initial = (await listedContents(page)).length;
    assert.ok(initial < 120, `a first page only, got ${initial}`);
    const scroller = page.locator('#scroller');
    assert.ok(await scroller.evaluate((s) => s.scrollHeight - s.scrollTop - s.clientHeight < 50), 'starts at the bottom');

    let rounds = 0;
    while (!(await page.getByText(`This is the beginning of #${name}.`).isVisible())) {
      assert.ok(rounds++ < 10, 'history loading does not finish');
      const count = (await listedContents(page)).length;
      const topId = await list.locator('li').first().getAttribute('data-id');
      await scroller.hover();
      await page.mouse.wheel(0, -100000);
      await waitFor(async () => (await listedContents(page)).length > count
        || (await page.getByText(`This is the beginning of #${name}.`).isVisible()), { message: 'older page' });
      // The previously first message is still in view: the position was kept, not reset.
      const box = await list.locator(`li[data-id="${topId}"]`).boundingBox();
      const view = await scroller.boundingBox();
      assert.ok(box.y + box.height > view.y && box.y < view.y + view.height, 'previous top message still visible');
    }
    assert.deepEqual(await listedContents(page), sent, 'every message once, in order');

    // At the bottom, new messages keep the view stuck to the bottom.
    await scroller.evaluate((s) => { s.scrollTop = s.scrollHeight; });
    await sendMessage(page, 'stick to the bottom');
    await waitFor(async () => (await listedMessages(page)).at(-1)?.pending === false, { message: 'confirmed' });
    assert.ok(await scroller.evaluate((s) => s.scrollHeight - s.scrollTop - s.clientHeight < 50), 'still at the bottom');
  });

  test('markup in messages, room names and usernames is shown as text', async () => {
    let dialogs = 0;
    const onDialog = (dialog) => { dialogs++; dialog.dismiss(); };
    alice.page.on('dialog', onDialog);
    bob.page.on('dialog', onDialog);
    // A username with markup, too (registered first: rooms are learned from serverCreateRoom).
    const mallory = await registerUser(browser, server, '<i>m</i>');
    mallory.page.on('dialog', onDialog);
    const payload = '<img src=x onerror=alert(1)>';
    const roomName = `<b>${unique()}</b><img src=y onerror=alert(2)>`;
    await alice.page.getByLabel('Room name', { exact: true }).fill(roomName);
    await alice.page.getByRole('button', { name: 'Create room', exact: true }).click();
    await waitFor(async () => (await roomNames(alice.page)).includes(roomName), { message: 'room with markup in its name' });
    await openRoom(alice.page, roomName);
    await sendMessage(alice.page, payload);
    await waitFor(async () => (await listedMessages(alice.page)).some((m) => m.content === payload && !m.pending), { message: 'payload echoed' });
    await bob.page.getByRole('button', { name: `Join ${roomName}`, exact: true }).click();
    await waitFor(async () => (await listedContents(bob.page)).includes(payload), { message: 'bob sees payload' });
    await mallory.page.getByRole('button', { name: `Join ${roomName}`, exact: true }).click();
    await waitFor(async () => (await listedContents(mallory.page)).includes(payload), { message: 'mallory joined' });
    await sendMessage(mallory.page, '<script>alert(3)</script>');
    await waitFor(async () => (await listedMessages(alice.page)).some((m) => m.author === mallory.user.username), { message: 'markup username shown' });
    for (const page of [alice.page, bob.page, mallory.page]) {
      assert.equal(await messageList(page).locator('img, b, i, script').count(), 0, 'no element created from message text');
      assert.equal(await page.locator('#sidebar img, #sidebar b').count(), 0, 'no element from the room name');
    }
    await alice.page.waitForTimeout(200);
    assert.equal(dialogs, 0, 'no dialog fired');
    alice.page.off('dialog', onDialog);
    bob.page.off('dialog', onDialog);
    assert.deepEqual(mallory.errors, []);
    await mallory.context.close();
  });

  test('usable with the keyboard alone', async () => {
    const { page } = bob;
    const target = defaultRooms[1];
    await page.evaluate(() => document.activeElement?.blur());
    const focusedName = () => page.evaluate(() => {
      const a = document.activeElement;
      return a?.getAttribute('aria-label') || a?.textContent?.trim() || '';
    });
    let presses = 0;
    while ((await focusedName()) !== target) {
      assert.ok(presses++ < 40, 'room button reachable with Tab');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.getByRole('heading', { level: 1 }).textContent()) === `# ${target}`, { message: 'room opened by keyboard' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'message-input', 'focus moves to the composer');
    const text = `typed only ${unique()}`;
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
    await waitFor(async () => (await listedMessages(page)).some((m) => m.content === text && !m.pending), { message: 'sent by keyboard' });
  });

  test('server push events are shown as a notice', async () => {
    const response = await fetch(`${server.url}/api/push/broadcast`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ op: 7, body: { message: 'Maintenance at noon' } }),
    });
    assert.equal(response.status, 200);
    for (const page of [alice.page, bob.page]) {
      await page.getByText('Maintenance at noon', { exact: true }).waitFor();
    }
  });

  test('a server restart mid-conversation loses and duplicates nothing', async (t) => {
    const name = `restart-${unique()}`;
    await alice.page.getByLabel('Room name', { exact: true }).fill(name);
    await alice.page.getByRole('button', { name: 'Create room', exact: true }).click();
    await bob.page.getByRole('button', { name: `Join ${name}`, exact: true }).click();
    await waitFor(async () => (await bob.page.getByRole('heading', { level: 1 }).textContent()) === `# ${name}`, { message: 'bob in room' });
    await waitFor(async () => (await alice.page.getByRole('heading', { level: 1 }).textContent()) === `# ${name}`, { message: 'alice in room' });
    for (let i = 1; i <= 5; i++) await sendMessage(alice.page, `before ${i}`);
    await waitFor(async () => (await listedContents(bob.page)).length === 5, { message: 'bob has the first messages' });

    // Stop the server; both pages notice and go offline.
    const { port, dataDir } = server;
    await server.stop({ keepData: true });
    for (const page of [alice.page, bob.page]) {
      await waitFor(async () => (await page.locator('#conn-text').textContent()).startsWith('Offline'), { message: 'offline indicator' });
    }
    // Typed while offline: shown at once as pending.
    await sendMessage(alice.page, 'offline 1');
    await sendMessage(alice.page, 'offline 2');
    // (Rendered on the next animation frame: wait for it rather than racing it.)
    const lastTwo = async () => (await listedMessages(alice.page)).slice(-2).map((m) => [m.content, m.pending]);
    await waitFor(async () => JSON.stringify(await lastTwo()) === JSON.stringify([['offline 1', true], ['offline 2', true]]),
      { message: 'offline messages shown as pending' });
    await alice.page.screenshot({ path: path.join(outputDir, 'chat-offline.png') });
    await alice.page.waitForTimeout(1500); // let the reconnect backoff grow

    server = await startServer({ port, dataDir, env: serverEnv });
    // Many messages arrive while the browsers are still waiting to reconnect: more than a
    // hello page, so the resume answer has to fill the gap.
    const socket = await socketFor(server, bob.context);
    const roomId = socket.hello.payload.rooms.find((r) => r.name === name).id;
    const burst = Array.from({ length: 80 }, (_, i) => `while away ${i + 1}`);
    await socket.post(roomId, burst);
    await sendMessage(bob.page, 'bob after restart');

    const truth = async () => (await socket.history(roomId)).map((m) => ({ id: m.id, content: m.content }));
    for (const { page } of [alice, bob]) {
      await waitFor(async () => {
        const shown = await listedMessages(page);
        return shown.length === 5 + 2 + 80 + 1 && shown.every((m) => !m.pending);
      }, { timeout: 20000, message: 'all messages after the restart' });
    }
    const expected = await truth();
    assert.equal(expected.length, 88);
    assert.deepEqual(expected.map((m) => seqOf(m.id)), Array.from({ length: 88 }, (_, i) => i + 1), 'server history is contiguous');
    for (const { page } of [alice, bob]) {
      const shown = (await listedMessages(page)).map((m) => ({ id: m.id, content: m.content }));
      assert.deepEqual(shown, expected, 'DOM list equals the server history: no duplicate, no gap');
    }
    assert.equal(expected.filter((m) => m.content === 'offline 1').length, 1);
    // Which paths filled the gap depends on reconnect timing; report it for the record.
    for (const { page, user } of [alice, bob]) {
      const resumed = (await socketEvents(page)).filter((e) => e.resume && e.roomId === roomId);
      t.diagnostic(`${user.username}: resume answers for the room carried ${resumed.map((e) => e.messages).join(', ')} messages`);
    }
    assert.equal(await alice.page.locator('#conn-text').textContent(), 'Online');
    await socket.close();
  });

  test('screenshots at desktop and phone width', async () => {
    const { page } = alice;
    await openRoom(page, defaultRooms[0]);
    await openRoom(bob.page, defaultRooms[0]);
    await sendMessage(bob.page, 'Screenshots incoming, say cheese!');
    await sendMessage(bob.page, 'Second message from bob, grouped with the first one.');
    await sendMessage(page, 'Looking good.\nThis one spans\nthree lines: https://example.com/roomcast');
    await waitFor(async () => (await listedMessages(page)).at(-1)?.pending === false, { message: 'settled' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'chat-desktop.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    // The sidebar is a drawer on phones: hidden until opened.
    assert.equal(await roomButton(page, defaultRooms[0]).isVisible(), false);
    await page.screenshot({ path: path.join(outputDir, 'chat-phone.png') });
    await page.getByRole('button', { name: 'Show rooms', exact: true }).click();
    await roomButton(page, defaultRooms[1]).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(outputDir, 'chat-phone-rooms.png') });
    await roomButton(page, defaultRooms[1]).click();
    assert.equal(await page.getByRole('button', { name: 'Show rooms', exact: true }).getAttribute('aria-expanded'), 'false');
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
