// The presence parts of the room view: the online dot and count in the room header, the member
// list (online first), "X is typing…" under the messages and the "New messages" divider.

import { $, el, syncChildren } from './dom.js';
import { compareIds, ZERO_ID } from './ids.js';
import { typingText } from './presence.js';

export class PresenceView {
  constructor({ presence, client }) {
    this.presence = presence;
    this.client = client;
    this.toggle = $('presence-toggle');
    this.count = $('online-count');
    this.panel = $('members-panel');
    this.list = $('member-list');
    this.more = $('members-more');
    this.typingLine = $('typing');
    this.dividerMarks = new Map(); // roomId -> the read mark when the room was opened
    this.roomId = null;
    this.toggle.addEventListener('click', () => this.setPanel(this.panel.hidden));
    $('members-close').addEventListener('click', () => this.setPanel(false));
    this.more.addEventListener('click', () => this.presence.loadMembers(this.roomId, { more: true }));
  }

  reset() {
    this.dividerMarks.clear();
    this.roomId = null;
    this.setPanel(false);
  }

  setPanel(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open && this.roomId) this.presence.loadMembers(this.roomId);
    if (open) this.panel.querySelector('h2').focus();
    else if (document.activeElement && this.panel.contains(document.activeElement)) this.toggle.focus();
  }

  // Before the room's messages are rendered (and marked read): remember where reading stopped.
  beforeRoomRender(roomId) {
    const room = this.client.rooms.get(roomId);
    if (roomId !== this.roomId) {
      if (room) this.dividerMarks.set(roomId, room.readMark || ZERO_ID);
      const open = !this.panel.hidden;
      this.roomId = roomId;
      if (open && room) this.presence.loadMembers(roomId);
    }
  }

  // After the messages are in the DOM: the divider before the first unread message of others.
  afterRoomRender(roomId, messagesList) {
    const mark = this.dividerMarks.get(roomId);
    const room = this.client.rooms.get(roomId);
    const first = room && mark
      ? room.messages.find((m) => compareIds(m.id, mark) > 0 && m.user?.id !== this.client.me?.id)
      : null;
    for (const old of messagesList.querySelectorAll('.new-divider')) {
      if (old.parentElement?.dataset.id !== first?.id) old.remove();
    }
    if (!first) return;
    const li = messagesList.querySelector(`li[data-id="${CSS.escape(first.id)}"]`);
    if (li && !li.querySelector('.new-divider')) {
      li.prepend(el('div', { className: 'new-divider', text: 'New messages', attrs: { role: 'separator' } }));
    }
  }

  // Header count, typing line and member list of the current room.
  render() {
    const roomId = this.roomId;
    const room = this.client.rooms.get(roomId);
    this.toggle.hidden = !room;
    if (!room) {
      this.typingLine.textContent = '';
      this.setPanel(false);
      return;
    }
    const online = this.presence.onlineCount(roomId);
    this.count.textContent = `${online} online`;
    this.toggle.setAttribute('aria-label', `${online} ${online === 1 ? 'member' : 'members'} online: show the member list`);
    this.typingLine.textContent = typingText(this.presence.typingUsers(roomId));
    if (!this.panel.hidden) this.renderMembers(roomId);
  }

  renderMembers(roomId) {
    const members = this.presence.memberList(roomId) || [];
    syncChildren(this.list, members.map(({ user, online }) => el('li', { className: online ? 'member online' : 'member' }, [
      el('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } }),
      el('span', { className: 'member-name', text: user.username }),
      el('span', { className: 'sr-only', text: online ? ' (online)' : ' (offline)' }),
    ])));
    this.more.hidden = !this.presence.hasMoreMembers(roomId);
  }
}
