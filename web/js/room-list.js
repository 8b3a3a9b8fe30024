// The sidebar's room entries: one <li> per room, kept across renders (focus and scroll stay),
// with the unread badge, the current-room mark and a Join button for rooms not joined.
import { el } from './dom.js';

export class RoomList {
  constructor({ onSelect, onJoin }) {
    this.buttons = new Map(); // key -> <li>
    this.onSelect = onSelect;
    this.onJoin = onJoin;
  }

  item(key, roomId, name, { unread = 0, current = false, joined = true }) {
    let item = this.buttons.get(key);
    if (!item) {
      const button = el('button', { className: 'room', attrs: { type: 'button', 'data-room-id': roomId } }, [
        el('span', { className: 'room-hash', text: '#', attrs: { 'aria-hidden': 'true' } }),
        el('span', { className: 'room-name' }),
        el('span', { className: 'badge', attrs: { 'aria-hidden': 'true' } }),
      ]);
      button.addEventListener('click', () => this.onSelect(roomId));
      item = el('li', {}, [button]);
      if (!joined) {
        const join = el('button', { className: 'btn tiny', text: 'Join', attrs: { type: 'button' } });
        join.addEventListener('click', () => this.onJoin(roomId));
        item.append(join);
      }
      this.buttons.set(key, item);
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

  // Forgets the entries whose keys were not used by the last render.
  retain(usedKeys) {
    for (const key of this.buttons.keys()) if (!usedKeys.has(key)) this.buttons.delete(key);
  }
}
