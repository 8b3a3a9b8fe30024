// One message in the timeline: its node (built once per message) and the classes that depend on
// its neighbours and on changing state (grouping, day dividers, pending). No app state here:
// the caller passes who "me" is and whether the connection is ready.
import { el, appendLinkified, initials, userHue } from './dom.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000; // consecutive messages closer than this are grouped
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export function renderAvatar(node, user) {
  node.textContent = initials(user?.username);
  node.style.setProperty('--hue', userHue(user?.id));
}

export function buildMessage(item) {
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

// `meId`: the signed-in user's id; `ready`: the connection is up (pending labels say so).
export function decorateMessage(li, item, previous, room, { meId, ready }) {
  const { message } = item;
  const own = message.user?.id === meId;
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
    const text = ready ? 'Sending…' : 'Waiting for connection…';
    if (status.textContent !== text) status.textContent = text;
    li.setAttribute('aria-busy', 'true');
  }
}

// The line above the oldest message: loading, a button for older pages, or the room's start.
export function renderHistoryStatus(status, room, loadOlder) {
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
    button.addEventListener('click', loadOlder);
    status.replaceChildren(button);
  } else {
    status.replaceChildren(
      el('strong', { text: `This is the beginning of #${room.name}.` }),
      el('span', { className: 'muted', text: ' Say hello!' }),
    );
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
