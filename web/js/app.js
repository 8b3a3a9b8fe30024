// roomcast browser client: wires the DOM to ChatClient (state) and Connection (socket).

import * as api from './api.js';
import { AuthForm } from './auth-form.js';
import { ChatClient } from './client.js';
import { Connection, wsUrl } from './connection.js';
import { Presence } from './presence.js';
import { PresenceView } from './presence-view.js';
import { $, el, syncChildren } from './dom.js';
import { buildMessage, decorateMessage, renderAvatar, renderHistoryStatus } from './message-view.js';
import { RoomList } from './room-list.js';
import { createToaster } from './toasts.js';

const MAX_MESSAGE_BYTES = 8192; // docs/protocol.md default content limit
const LOAD_OLDER_THRESHOLD_PX = 400; // start fetching history this close to the top
const BOTTOM_SLACK_PX = 48; // "at the bottom" tolerance
const NARROW_QUERY = window.matchMedia('(max-width: 760px)');


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
const toast = createToaster(els.toasts);
const authForm = new AuthForm(els, {
  onSignedIn() {
    resetChat();
    els.splashText.textContent = 'Connecting…';
    showPhase('splash');
    connection.start();
  },
});

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
    if (wasChatting) authForm.showError('Your session has ended. Please log in again.');
  },
  onDisplaced() {
    if (client.ready) client.connectionLost();
    toast('error', 'Too many open connections for this account: this tab was disconnected. ' +
      'Close other tabs, then press Reconnect.');
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
    authForm.setMode(authForm.mode);
    authForm.firstField().focus();
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
  roomList.retain(new Set());
  document.title = 'roomcast';
}

// ---------------------------------------------------------------- auth

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
  authForm.mode = 'login';
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

const roomList = new RoomList({ onSelect: (id) => selectRoom(id), onJoin: (id) => joinRoom(id) });

function renderSidebar() {
  const current = client.currentRoomId;
  const used = new Set();
  let totalUnread = 0;
  const joined = [];
  for (const room of client.rooms.values()) {
    const unread = room.id === current ? 0 : client.unreadCount(room);
    totalUnread += unread;
    used.add(`j:${room.id}`);
    joined.push(roomList.item(`j:${room.id}`, room.id, room.name, { unread, current: room.id === current }));
  }
  const others = [];
  for (const [id, name] of client.known) {
    used.add(`k:${id}`);
    others.push(roomList.item(`k:${id}`, id, name, { current: id === current, joined: false }));
  }
  roomList.retain(used);
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
    decorateMessage(li, item, previous, room, { meId: client.me?.id, ready: client.ready });
    ordered.push(li);
    previous = item;
  }
  for (const key of nodes.keys()) if (!used.has(key)) nodes.delete(key);
  syncChildren(els.messages, ordered);
  renderHistoryStatus(els.historyStatus, room, () => client.loadOlder(room.id));

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
    } else if (status.displaced) {
      text = 'Disconnected · too many open tabs';
      state = 'stopped';
    } else {
      text = 'Disconnected';
      state = 'stopped';
    }
    const canRetry = status.state === 'waiting' || Boolean(status.displaced);
    els.conn.dataset.state = state;
    if (els.connText.textContent !== text) els.connText.textContent = text;
    els.retry.hidden = !canRetry;
    els.retry.textContent = status.displaced ? 'Reconnect' : 'Retry now';
    if (phase === 'splash') {
      els.splashText.textContent = status.state === 'waiting' ? `Cannot reach the server. ${text}.`
        : status.displaced ? `${text}.` : 'Connecting…';
      els.splashRetry.hidden = !canRetry;
    }
  };
  update();
  if (status.state === 'waiting') countdownTimer = setInterval(update, 1000);
  scheduleRender({ roomId: client.currentRoomId }); // pending labels, placeholder
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

els.authForm.addEventListener('submit', (event) => authForm.submit(event));
els.authSwitch.addEventListener('click', () => {
  authForm.setMode(authForm.mode === 'login' ? 'register' : 'login');
  authForm.firstField().focus();
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
