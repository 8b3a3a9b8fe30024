// roomcast browser client: wires the DOM to ChatClient (state) and Connection (socket).

import * as api from './api.js';
import { ChatClient } from './client.js';
import { Connection, wsUrl } from './connection.js';
import { Presence } from './presence.js';
import { PresenceView } from './presence-view.js';
import { $, el, syncChildren, appendLinkified, initials, userHue } from './dom.js';

const MAX_MESSAGE_BYTES = 8192; // PROTOCOL.md default content limit
const GROUP_WINDOW_MS = 5 * 60 * 1000; // consecutive messages closer than this are grouped
const LOAD_OLDER_THRESHOLD_PX = 400; // start fetching history this close to the top
const BOTTOM_SLACK_PX = 48; // "at the bottom" tolerance
const NARROW_QUERY = window.matchMedia('(max-width: 760px)');

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

const els = Object.fromEntries([
  'splash', 'splash-text', 'splash-retry', 'auth-view', 'auth-title', 'auth-subtitle', 'auth-form',
  'username-field', 'auth-username', 'auth-email', 'auth-password', 'auth-password-hint',
  'auth-error', 'auth-submit', 'auth-switch', 'auth-switch-text', 'chat-view', 'sidebar',
  'close-sidebar', 'open-sidebar', 'menu-badge', 'backdrop', 'room-list', 'other-rooms',
  'other-room-list', 'create-room-form', 'room-name', 'room-name-error', 'me-avatar', 'me-name',
  'logout', 'room-pane', 'room-title', 'conn', 'conn-text', 'retry', 'leave-room', 'scroller',
  'history-status', 'messages', 'jump', 'preview', 'preview-title', 'join-room', 'empty',
  'composer', 'message-input', 'send', 'toasts',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), $(id)]));

let phase = 'splash'; // 'splash' | 'auth' | 'chat'
let authMode = 'login'; // 'login' | 'register'

const client = new ChatClient({
  send: (type, payload) => connection.send(type, payload),
  onChange: (what) => scheduleRender(what),
  onNotice: (kind, text) => toast(kind, text),
});

const presence = new Presence({
  client,
  send: (type, payload) => connection.send(type, payload),
  onChange: () => scheduleRender({ presence: true }),
});
const presenceView = new PresenceView({ presence, client });

const connection = new Connection(wsUrl(), {
  onEvent(event) {
    if (event.type === 'hello') {
      connection.confirmed();
      showPhase('chat');
    }
    client.handleEvent(event);
    presence.handleEvent(event);
  },
  onClose() {
    if (client.ready) client.connectionLost();
  },
  onUnauthorized() {
    const wasChatting = phase === 'chat';
    resetChat();
    showPhase('auth');
    if (wasChatting) showAuthError('Your session has ended. Please log in again.');
  },
  onStatus: renderConnection,
});

// ---------------------------------------------------------------- phases

function showPhase(next) {
  phase = next;
  els.splash.hidden = next !== 'splash';
  els.authView.hidden = next !== 'auth';
  els.chatView.hidden = next !== 'chat';
  if (next === 'auth') {
    setAuthMode(authMode);
    (authMode === 'register' ? els.authUsername : els.authEmail).focus();
  }
  if (next === 'chat') scheduleRender({ rooms: true, roomId: client.currentRoomId });
}

function resetChat() {
  client.reset();
  presence.reset();
  presenceView.reset();
  messageNodes.clear();
  roomScroll.clear();
  renderedRoomId = null;
  els.messages.replaceChildren();
  els.roomList.replaceChildren();
  els.otherRoomList.replaceChildren();
  roomButtons.clear();
  document.title = 'roomcast';
}

// ---------------------------------------------------------------- auth

function setAuthMode(mode) {
  authMode = mode;
  const register = mode === 'register';
  els.usernameField.hidden = !register;
  els.authPasswordHint.hidden = !register;
  els.authTitle.textContent = register ? 'Create your account' : 'Welcome back';
  els.authSubtitle.textContent = register
    ? 'Pick a username others will see next to your messages.'
    : 'Log in to pick up where you left off.';
  els.authSubmit.textContent = register ? 'Create account' : 'Log in';
  els.authSwitchText.textContent = register ? 'Already have an account?' : 'New to roomcast?';
  els.authSwitch.textContent = register ? 'Sign in instead' : 'Register';
  els.authPassword.autocomplete = register ? 'new-password' : 'current-password';
  clearAuthErrors();
}

function clearAuthErrors() {
  els.authError.textContent = '';
  for (const input of [els.authUsername, els.authEmail, els.authPassword]) setFieldError(input, '');
}

function setFieldError(input, message) {
  const error = $(`${input.id}-error`);
  error.textContent = message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function showAuthError(message) {
  els.authError.textContent = message;
}

// Same bounds as the server (PROTOCOL.md), so most mistakes are caught before a round trip.
function validateAuth({ username, email, password }) {
  const errors = {};
  const length = (s) => Array.from(s).length;
  if (authMode === 'register') {
    if (length(username) < 4 || length(username) > 100) errors.username = 'Username must be 4–100 characters.';
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f-\u009f]/.test(username)) errors.username = 'Username cannot contain control characters.';
  }
  if (!email) errors.email = 'Enter your email address.';
  else if (length(email) > 100 || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = 'Enter a valid email address.';
  if (!password) errors.password = 'Enter your password.';
  else if (authMode === 'register' && (length(password) < 10 || length(password) > 100)) {
    errors.password = 'Password must be 10–100 characters.';
  }
  return errors;
}

// Which field an API error id belongs to.
const ERROR_FIELDS = { USERNAME_EXISTS: 'username', EMAIL_EXISTS: 'email' };

async function submitAuth(event) {
  event.preventDefault();
  clearAuthErrors();
  const values = {
    username: els.authUsername.value.trim(),
    email: els.authEmail.value.trim(),
    password: els.authPassword.value,
  };
  const inputs = { username: els.authUsername, email: els.authEmail, password: els.authPassword };
  const errors = validateAuth(values);
  const invalid = Object.keys(errors);
  if (invalid.length) {
    for (const field of invalid) setFieldError(inputs[field], errors[field]);
    showAuthError('Please fix the highlighted fields.');
    inputs[invalid[0]].focus();
    return;
  }
  els.authSubmit.disabled = true;
  els.authSubmit.setAttribute('aria-busy', 'true');
  try {
    if (authMode === 'register') await api.createAccount(values.username, values.email, values.password);
    else await api.login(values.email, values.password);
    els.authPassword.value = '';
    resetChat();
    els.splashText.textContent = 'Connecting…';
    showPhase('splash');
    connection.start();
  } catch (error) {
    const message = capitalize(error.message);
    // BAD_REQUEST messages name the field they are about ("password must be …").
    const field = ERROR_FIELDS[error.id]
      || (error.id === 'BAD_REQUEST' && /^(username|email|password)\b/i.exec(error.message)?.[1].toLowerCase());
    if (field && inputs[field] && !inputs[field].closest('[hidden]')) {
      // Shown at the field (read out on focus through aria-describedby).
      setFieldError(inputs[field], message);
      showAuthError('Please check the highlighted field.');
      inputs[field].focus();
      return;
    }
    if (error.id === 'LOGIN_FAILED') {
      els.authPassword.select();
      els.authPassword.focus();
    }
    showAuthError(message);
  } finally {
    els.authSubmit.disabled = false;
    els.authSubmit.removeAttribute('aria-busy');
  }
}

const capitalize = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

async function doLogout() {
  els.logout.disabled = true;
  try {
    await api.logout();
  } catch (error) {
    toast('error', `Could not log out: ${error.message}`);
    return;
  } finally {
    els.logout.disabled = false;
  }
  connection.stop();
  resetChat();
  closeSidebar();
  authMode = 'login';
  showPhase('auth');
}

// ---------------------------------------------------------------- rendering

let pendingRender = { rooms: false, roomIds: new Set(), scrollToBottom: false };
let renderScheduled = false;

function scheduleRender({ rooms = false, roomId = null, scrollToBottom = false, presence = false } = {}) {
  pendingRender.presence ||= presence;
  pendingRender.rooms ||= rooms;
  pendingRender.scrollToBottom ||= scrollToBottom;
  if (roomId) pendingRender.roomIds.add(roomId);
  if (renderScheduled) return;
  renderScheduled = true;
  // requestAnimationFrame batches bursts of events into one render; it does not fire
  // in a hidden tab, where a timer is good enough.
  if (document.hidden) setTimeout(flushRender, 0);
  else requestAnimationFrame(flushRender);
}

function flushRender() {
  renderScheduled = false;
  const work = pendingRender;
  pendingRender = { rooms: false, roomIds: new Set(), scrollToBottom: false };
  if (phase !== 'chat') return;
  const current = client.currentRoomId;
  if (work.roomIds.has(current) || renderedRoomId !== current) renderRoom(work.scrollToBottom);
  if (work.rooms || work.roomIds.size) renderSidebar();
  presenceView.render();
}

// Sidebar ---------------------------------------------------------------

const roomButtons = new Map(); // key -> <li>

function roomItem(key, roomId, name, { unread = 0, current = false, joined = true }) {
  let item = roomButtons.get(key);
  if (!item) {
    const button = el('button', { className: 'room', attrs: { type: 'button', 'data-room-id': roomId } }, [
      el('span', { className: 'room-hash', text: '#', attrs: { 'aria-hidden': 'true' } }),
      el('span', { className: 'room-name' }),
      el('span', { className: 'badge', attrs: { 'aria-hidden': 'true' } }),
    ]);
    button.addEventListener('click', () => selectRoom(roomId));
    item = el('li', {}, [button]);
    if (!joined) {
      const join = el('button', { className: 'btn tiny', text: 'Join', attrs: { type: 'button' } });
      join.addEventListener('click', () => joinRoom(roomId));
      item.append(join);
    }
    roomButtons.set(key, item);
  }
  const button = item.firstElementChild;
  // The accessible name is exactly the room name; the badge is described separately.
  button.setAttribute('aria-label', name);
  button.querySelector('.room-name').textContent = name;
  const badge = button.querySelector('.badge');
  badge.textContent = unread > 99 ? '99+' : String(unread);
  badge.hidden = unread === 0;
  button.classList.toggle('unread', unread > 0);
  if (unread) button.setAttribute('aria-description', `${unread} unread`);
  else button.removeAttribute('aria-description');
  if (current) button.setAttribute('aria-current', 'page');
  else button.removeAttribute('aria-current');
  if (!joined) item.lastElementChild.setAttribute('aria-label', `Join ${name}`);
  return item;
}

function renderSidebar() {
  const current = client.currentRoomId;
  const used = new Set();
  let totalUnread = 0;
  const joined = [];
  for (const room of client.rooms.values()) {
    const unread = room.id === current ? 0 : client.unreadCount(room);
    totalUnread += unread;
    used.add(`j:${room.id}`);
    joined.push(roomItem(`j:${room.id}`, room.id, room.name, { unread, current: room.id === current }));
  }
  const others = [];
  for (const [id, name] of client.known) {
    used.add(`k:${id}`);
    others.push(roomItem(`k:${id}`, id, name, { current: id === current, joined: false }));
  }
  for (const key of roomButtons.keys()) if (!used.has(key)) roomButtons.delete(key);
  for (const id of messageNodes.keys()) {
    if (!client.rooms.has(id)) {
      messageNodes.delete(id); // left rooms: drop their cached message elements
      roomScroll.delete(id);
    }
  }
  syncChildren(els.roomList, joined);
  syncChildren(els.otherRoomList, others);
  els.otherRooms.hidden = others.length === 0;
  els.menuBadge.hidden = totalUnread === 0;
  els.menuBadge.textContent = totalUnread > 99 ? '99+' : String(totalUnread);
  if (client.me) {
    els.meName.textContent = client.me.username;
    renderAvatar(els.meAvatar, client.me);
  }
  const title = client.rooms.get(current)?.name || client.known.get(current);
  document.title = `${totalUnread ? `(${totalUnread}) ` : ''}${title ? `#${title} · ` : ''}roomcast`;
}

function renderAvatar(node, user) {
  node.textContent = initials(user?.username);
  node.style.setProperty('--hue', userHue(user?.id));
}

// Messages --------------------------------------------------------------

const messageNodes = new Map(); // roomId -> Map(key -> <li>)
const roomScroll = new Map(); // roomId -> {atBottom, key, offset}
let renderedRoomId = null;

function isAtBottom() {
  const s = els.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight <= BOTTOM_SLACK_PX;
}

// The first message visible at the top of the viewport and how far below the top it is:
// restoring that offset keeps the view still when older messages are prepended.
function captureScroll() {
  const s = els.scroller;
  const atBottom = isAtBottom();
  for (const li of els.messages.children) {
    if (li.offsetTop + li.offsetHeight > s.scrollTop) {
      return { atBottom, key: li.dataset.key, offset: li.offsetTop - s.scrollTop };
    }
  }
  return { atBottom, key: null, offset: 0 };
}

function restoreScroll(state, nodes) {
  const s = els.scroller;
  if (!state || state.atBottom) {
    s.scrollTop = s.scrollHeight;
    return;
  }
  const li = state.key && nodes.get(state.key);
  if (li && li.isConnected) s.scrollTop = li.offsetTop - state.offset;
}

function renderRoom(forceBottom) {
  const roomId = client.currentRoomId;
  const room = client.rooms.get(roomId);
  const knownName = client.known.get(roomId);
  const switching = renderedRoomId !== roomId;
  presenceView.beforeRoomRender(roomId);
  if (switching && renderedRoomId && messageNodes.has(renderedRoomId)) {
    roomScroll.set(renderedRoomId, captureScroll());
  }

  els.roomTitle.textContent = room ? `# ${room.name}` : knownName ? `# ${knownName}` : 'roomcast';
  els.leaveRoom.hidden = !room;
  els.scroller.hidden = !room;
  els.composer.hidden = !room;
  els.preview.hidden = !!room || knownName === undefined;
  els.empty.hidden = !!room || knownName !== undefined;
  if (!room) {
    els.previewTitle.textContent = knownName ? `# ${knownName}` : '';
    els.messages.replaceChildren();
    els.jump.hidden = true;
    renderedRoomId = roomId;
    return;
  }
  els.messageInput.placeholder = client.ready ? `Message #${room.name}` : `Message #${room.name} (sent when back online)`;

  const before = switching ? null : captureScroll();
  const lastKeyBefore = els.messages.lastElementChild?.dataset.key;
  const nodes = messageNodes.get(roomId) || new Map();
  messageNodes.set(roomId, nodes);

  const items = room.messages.map((m) => ({ key: `m:${m.id}`, message: m, pending: null }));
  for (const p of client.pendingFor(roomId)) {
    items.push({
      key: `p:${p.clientId}`,
      message: { id: null, user: client.me, content: p.content, timestamp: p.timestamp },
      pending: p,
    });
  }

  const ordered = [];
  const used = new Set();
  let previous = null;
  for (const item of items) {
    let li = nodes.get(item.key);
    if (!li) {
      li = buildMessage(item);
      nodes.set(item.key, li);
    }
    used.add(item.key);
    decorateMessage(li, item, previous, room);
    ordered.push(li);
    previous = item;
  }
  for (const key of nodes.keys()) if (!used.has(key)) nodes.delete(key);
  syncChildren(els.messages, ordered);
  renderHistoryStatus(room);

  if (switching) {
    restoreScroll(roomScroll.get(roomId), nodes);
    els.jump.hidden = true;
  } else if (forceBottom || before.atBottom) {
    els.scroller.scrollTop = els.scroller.scrollHeight;
    els.jump.hidden = true;
  } else {
    restoreScroll(before, nodes);
    const lastKeyNow = els.messages.lastElementChild?.dataset.key;
    if (lastKeyNow !== lastKeyBefore) els.jump.hidden = false;
  }
  renderedRoomId = roomId;
  presenceView.afterRoomRender(roomId, els.messages);
  if (!document.hidden && isAtBottom()) client.markRead(roomId);
  maybeLoadOlder();
}

function buildMessage(item) {
  const { message } = item;
  const li = el('li', { className: 'msg', attrs: { 'data-key': item.key } });
  if (message.id) li.dataset.id = message.id;
  const avatar = el('span', { className: 'avatar', attrs: { 'aria-hidden': 'true' } });
  renderAvatar(avatar, message.user);
  const date = new Date(Number(message.timestamp) || 0);
  const time = el('time', {
    className: 'time',
    text: timeFormat.format(date),
    attrs: { datetime: date.toISOString(), title: fullFormat.format(date) },
  });
  const meta = el('div', { className: 'meta' }, [
    el('span', { className: 'author', text: message.user?.username ?? 'unknown' }),
    time,
  ]);
  const content = el('div', { className: 'content' });
  appendLinkified(content, String(message.content ?? ''));
  const body = el('div', { className: 'body' }, [meta, content]);
  if (item.pending) body.append(el('span', { className: 'status', attrs: { 'aria-live': 'off' } }));
  li.append(avatar, body);
  return li;
}

// Classes that depend on the neighbours (grouping, day dividers) or on changing state.
function decorateMessage(li, item, previous, room) {
  const { message } = item;
  const own = message.user?.id === client.me?.id;
  const day = new Date(Number(message.timestamp) || 0).toDateString();
  const previousDay = previous && new Date(Number(previous.message.timestamp) || 0).toDateString();
  const newDay = previous ? day !== previousDay : !room.hasMore;
  const grouped = !!previous && !newDay
    && previous.message.user?.id === message.user?.id
    && Math.abs(message.timestamp - previous.message.timestamp) < GROUP_WINDOW_MS;
  li.classList.toggle('own', own);
  li.classList.toggle('grouped', grouped);
  li.classList.toggle('pending', !!item.pending);

  let divider = li.querySelector(':scope > .day');
  if (newDay && !divider) {
    divider = el('div', { className: 'day', attrs: { role: 'separator' } }, [el('span')]);
    li.prepend(divider);
  } else if (!newDay && divider) {
    divider.remove();
  }
  if (divider && newDay) divider.firstChild.textContent = dayLabel(Number(message.timestamp) || 0);

  if (item.pending) {
    const status = li.querySelector('.status');
    const text = client.ready ? 'Sending…' : 'Waiting for connection…';
    if (status.textContent !== text) status.textContent = text;
    li.setAttribute('aria-busy', 'true');
  }
}

function dayLabel(timestamp) {
  const date = new Date(timestamp);
  const today = new Date();
  const yesterday = new Date();
  yesterday.setDate(today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return 'Today';
  if (date.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return dayFormat.format(date);
}

function renderHistoryStatus(room) {
  const status = els.historyStatus;
  let key;
  if (room.loading || room.awaitingResume || room.detached) key = 'loading';
  else if (room.hasMore) key = 'more';
  else key = 'start';
  if (status.dataset.state === key && status.dataset.room === room.id) return;
  status.dataset.state = key;
  status.dataset.room = room.id;
  if (key === 'loading') {
    status.replaceChildren(el('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading older messages…');
  } else if (key === 'more') {
    const button = el('button', { className: 'link small', text: 'Load older messages', attrs: { type: 'button' } });
    button.addEventListener('click', () => client.loadOlder(room.id));
    status.replaceChildren(button);
  } else {
    status.replaceChildren(
      el('strong', { text: `This is the beginning of #${room.name}.` }),
      el('span', { className: 'muted', text: ' Say hello!' }),
    );
  }
}

function maybeLoadOlder() {
  const roomId = client.currentRoomId;
  if (!client.rooms.has(roomId) || els.scroller.hidden) return;
  if (els.scroller.scrollTop < LOAD_OLDER_THRESHOLD_PX) client.loadOlder(roomId);
}

// Connection indicator -------------------------------------------------

let countdownTimer = null;

function renderConnection(status) {
  clearInterval(countdownTimer);
  const update = () => {
    let text;
    let state = status.state;
    if (status.state === 'online') text = 'Online';
    else if (status.state === 'connecting') text = 'Connecting…';
    else if (status.state === 'waiting') {
      const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
      text = `Offline · retrying in ${seconds}s`;
    } else {
      text = 'Disconnected';
      state = 'stopped';
    }
    els.conn.dataset.state = state;
    if (els.connText.textContent !== text) els.connText.textContent = text;
    els.retry.hidden = status.state !== 'waiting';
    if (phase === 'splash') {
      els.splashText.textContent = status.state === 'waiting' ? `Cannot reach the server. ${text}.` : 'Connecting…';
      els.splashRetry.hidden = status.state !== 'waiting';
    }
  };
  update();
  if (status.state === 'waiting') countdownTimer = setInterval(update, 1000);
  scheduleRender({ roomId: client.currentRoomId }); // pending labels, placeholder
}

// Toasts ---------------------------------------------------------------

const recentToasts = new Map(); // text -> time, to collapse bursts of the same error

function toast(kind, text) {
  const now = Date.now();
  if (now - (recentToasts.get(text) || 0) < 3000) return;
  recentToasts.set(text, now);
  const dismiss = el('button', { className: 'toast-close', text: '×', attrs: { type: 'button', 'aria-label': 'Dismiss' } });
  const icon = el('span', { className: 'toast-icon', attrs: { 'aria-hidden': 'true' } });
  if (kind === 'push') icon.append(bellIcon());
  else icon.textContent = kind === 'error' ? '!' : 'i';
  const node = el('div', { className: `toast ${kind}` }, [
    icon,
    el('span', { className: 'toast-text', text }),
    dismiss,
  ]);
  const remove = () => node.remove();
  dismiss.addEventListener('click', remove);
  els.toasts.append(node);
  while (els.toasts.children.length > 4) els.toasts.firstElementChild.remove();
  setTimeout(remove, kind === 'error' ? 7000 : 5000);
}

// Drawn rather than an emoji: not every system has an emoji font.
function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  for (const d of ['M6 16V11a6 6 0 0 1 12 0v5l2 2H4z', 'M10 20a2 2 0 0 0 4 0']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

// ---------------------------------------------------------------- actions

function selectRoom(roomId) {
  client.openRoom(roomId);
  closeSidebar();
  if (client.rooms.has(roomId)) els.messageInput.focus();
  else els.joinRoom.focus();
}

function joinRoom(roomId) {
  if (!client.joinRoom(roomId)) toast('error', 'You are offline. Try again when reconnected.');
  closeSidebar();
}

function sendComposer() {
  const roomId = client.currentRoomId;
  const content = els.messageInput.value.trim();
  if (!content || !client.rooms.has(roomId)) return;
  if (new TextEncoder().encode(content).length > MAX_MESSAGE_BYTES) {
    toast('error', 'That message is too long (at most 8 KiB).');
    return;
  }
  client.sendMessage(roomId, content);
  els.messageInput.value = '';
  autosize();
  scheduleRender({ roomId, scrollToBottom: true });
}

function autosize() {
  const input = els.messageInput;
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}

function createRoom(event) {
  event.preventDefault();
  const name = els.roomName.value.trim();
  const length = Array.from(name).length;
  let error = '';
  if (length < 1 || length > 64) error = 'Room names are 1–64 characters.';
  else if (!client.createRoom(name)) error = 'You are offline. Try again when reconnected.';
  els.roomNameError.textContent = error;
  if (error) {
    els.roomName.setAttribute('aria-invalid', 'true');
    return;
  }
  els.roomName.removeAttribute('aria-invalid');
  els.roomName.value = '';
  closeSidebar();
}

function switchRoomBy(step) {
  const ids = [...client.rooms.keys(), ...client.known.keys()];
  if (!ids.length) return;
  const index = ids.indexOf(client.currentRoomId);
  const next = ids[(index + step + ids.length) % ids.length];
  client.openRoom(next);
}

// Narrow screens: the sidebar is a drawer.
function openSidebar() {
  els.sidebar.classList.add('open');
  els.backdrop.hidden = false;
  els.openSidebar.setAttribute('aria-expanded', 'true');
  els.roomPane.inert = true;
  (els.sidebar.querySelector('[aria-current="page"]') || els.sidebar.querySelector('button.room') || els.closeSidebar).focus();
}

function closeSidebar() {
  if (!els.sidebar.classList.contains('open')) return;
  els.sidebar.classList.remove('open');
  els.backdrop.hidden = true;
  els.openSidebar.setAttribute('aria-expanded', 'false');
  els.roomPane.inert = false;
  if (NARROW_QUERY.matches) els.openSidebar.focus();
}

// ---------------------------------------------------------------- events

els.authForm.addEventListener('submit', submitAuth);
els.authSwitch.addEventListener('click', () => {
  setAuthMode(authMode === 'login' ? 'register' : 'login');
  (authMode === 'register' ? els.authUsername : els.authEmail).focus();
});
els.logout.addEventListener('click', doLogout);
els.splashRetry.addEventListener('click', () => connection.retryNow());
els.retry.addEventListener('click', () => connection.retryNow());
els.createRoomForm.addEventListener('submit', createRoom);
els.roomName.addEventListener('input', () => {
  els.roomNameError.textContent = '';
  els.roomName.removeAttribute('aria-invalid');
});
els.joinRoom.addEventListener('click', () => joinRoom(client.currentRoomId));
els.leaveRoom.addEventListener('click', () => {
  if (!client.leaveRoom(client.currentRoomId)) toast('error', 'You are offline. Try again when reconnected.');
});
els.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  sendComposer();
  els.messageInput.focus();
});
els.messageInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    sendComposer();
  }
});
els.messageInput.addEventListener('input', () => {
  autosize();
  if (els.messageInput.value.trim()) presence.typed(client.currentRoomId);
});
els.scroller.addEventListener('scroll', () => {
  if (isAtBottom()) {
    els.jump.hidden = true;
    if (!document.hidden) client.markRead(client.currentRoomId);
  }
  maybeLoadOlder();
}, { passive: true });
els.jump.addEventListener('click', () => {
  els.scroller.scrollTop = els.scroller.scrollHeight;
  els.jump.hidden = true;
  els.messageInput.focus();
});
els.openSidebar.addEventListener('click', openSidebar);
els.closeSidebar.addEventListener('click', closeSidebar);
els.backdrop.addEventListener('click', closeSidebar);
document.addEventListener('keydown', (event) => {
  if (phase !== 'chat') return;
  if (event.key === 'Escape' && els.sidebar.classList.contains('open')) {
    closeSidebar();
  } else if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
    event.preventDefault();
    switchRoomBy(event.key === 'ArrowUp' ? -1 : 1);
  }
});
document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  scheduleRender({ rooms: true, roomId: client.currentRoomId });
  connection.retryNow(); // back to the tab while waiting to reconnect: try at once
});
NARROW_QUERY.addEventListener('change', () => {
  if (!NARROW_QUERY.matches) closeSidebar();
});

// Whether we are logged in is decided by the socket: hello, or close 1008.
connection.start();
