// Shared helpers for the browser tests: Chromium launch, registering users through the UI,
// reading the message list, and a raw WebSocket client (with a user's cookie) to post many
// messages fast and to read the server's history as ground truth.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { repoRoot } from '../lib/server.mjs';

export const outputDir = path.join(repoRoot, 'tests', 'output', 'e2e');
mkdirSync(outputDir, { recursive: true });

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const unique = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

// Polls `fn` until it returns a truthy value; fails with the last value seen.
export async function waitFor(fn, { timeout = 10000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${message}; last value: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// A browser context with a freshly registered user, on the chat screen.
// `setup(context)` runs before the page loads (e.g. to route its WebSocket).
export async function registerUser(browser, server, name, { viewport = { width: 1280, height: 800 }, setup } = {}) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript(recordSocketEvents);
  await setup?.(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const user = {
    username: `${name}${unique()}`.slice(0, 40),
    email: `${name}.${unique()}@example.com`,
    password: 'correct horse battery',
  };
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await composer(page).waitFor();
  await waitFor(() => roomNames(page).then((names) => names.length > 0), { message: 'rooms in the sidebar' });
  return { context, page, user, errors };
}

// Runs in the page before its scripts: keeps a summary of every event the client receives,
// so tests can tell which protocol paths (e.g. a non-empty resume answer) were exercised.
function recordSocketEvents() {
  const Native = window.WebSocket;
  window.__socketEvents = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (message) => {
        try {
          const { type, payload = {} } = JSON.parse(message.data);
          window.__socketEvents.push({
            type,
            roomId: payload.roomId,
            resume: !!payload.resume,
            hasMore: !!payload.hasMoreMessages,
            messages: payload.messages?.length ?? 0,
          });
        } catch {
          // not JSON: ignored, as by the client
        }
      });
    }
  };
}

export const socketEvents = (page) => page.evaluate(() => window.__socketEvents);

export const composer = (page) => page.getByRole('textbox', { name: 'Message', exact: true });
export const messageList = (page) => page.getByRole('list', { name: 'Messages', exact: true });
export const roomButton = (page, name) =>
  page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name, exact: true });

// Names of the joined rooms, in sidebar order.
export async function roomNames(page) {
  return page.locator('#room-list button.room').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
}

// Contents of the open room's message list, in DOM order.
export async function listedMessages(page) {
  return messageList(page).evaluate((ul) => [...ul.children].map((li) => ({
    id: li.dataset.id || null,
    content: li.querySelector('.content')?.textContent ?? '',
    author: li.querySelector('.author')?.textContent ?? '',
    pending: li.classList.contains('pending'),
    own: li.classList.contains('own'),
  })));
}

export async function listedContents(page) {
  return (await listedMessages(page)).map((m) => m.content);
}

export async function openRoom(page, name) {
  await roomButton(page, name).click();
  await waitFor(async () => (await page.getByRole('heading', { level: 1 }).textContent()) === `# ${name}`, {
    message: `room ${name} to open`,
  });
}

export async function sendMessage(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

// Raw protocol client authenticated with the cookie of a browser context.
export async function socketFor(server, context) {
  const sid = (await context.cookies(server.url)).find((c) => c.name === 'sid');
  if (!sid) throw new Error('no sid cookie in the browser context');
  const ws = new WebSocket(server.wsUrl, { headers: { Cookie: `sid=${sid.value}` } });
  const listeners = new Set();
  const events = [];
  ws.on('message', (data) => {
    const event = JSON.parse(String(data));
    events.push(event);
    for (const listener of [...listeners]) listener(event);
  });
  const closed = new Promise((resolve) => ws.on('close', resolve));

  function next(predicate, timeout = 5000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error('timed out waiting for a server event'));
      }, timeout);
      const listener = (event) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(event);
      };
      listeners.add(listener);
    });
  }
  const send = (type, payload) => ws.send(JSON.stringify({ type, payload }));
  const hello = await next((e) => e.type === 'hello');

  return {
    hello,
    events,
    next,
    send,
    // Posts messages one by one in order, waiting for each echo; retries on RATE_LIMITED.
    async post(roomId, contents) {
      for (const content of contents) {
        const clientId = randomBytes(12).toString('hex');
        for (let attempt = 0; ; attempt++) {
          const echo = next((e) => e.type === 'serverMessages' && e.payload.messages.some((m) => m.clientId === clientId));
          const limited = next((e) => e.type === 'serverError' && e.payload.requestType === 'clientMessages');
          echo.catch(() => {});
          limited.catch(() => {});
          send('clientMessages', { roomId, messages: [{ content, clientId }] });
          const outcome = await Promise.race([echo.then(() => 'ok'), limited.then((e) => e.payload.code)]);
          if (outcome === 'ok') break;
          if (outcome !== 'RATE_LIMITED' || attempt > 50) throw new Error(`posting failed: ${outcome}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async createRoom(roomName) {
      const created = next((e) => e.type === 'serverCreateRoom' && e.payload.roomName === roomName);
      send('clientCreateRoom', { roomName });
      return (await created).payload.roomId;
    },
    // The whole history of a room, oldest first, as the server has it.
    async history(roomId) {
      const all = [];
      let firstMessageId;
      for (;;) {
        const page = next((e) => e.type === 'serverRoomHistory' && e.payload.roomId === roomId && !e.payload.resume);
        send('requestRoomHistory', { roomId, count: 100, ...(firstMessageId ? { firstMessageId } : {}) });
        const { payload } = await page;
        all.unshift(...[...payload.messages].reverse());
        if (!payload.hasMoreMessages || payload.messages.length === 0) return all;
        firstMessageId = payload.messages[payload.messages.length - 1].id;
      }
    },
    async close() {
      ws.close();
      await closed;
    },
  };
}

export const seqOf = (id) => Number(String(id).split('-')[0]);
