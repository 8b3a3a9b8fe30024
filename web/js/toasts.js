// Short notices in a corner: errors stay 7 s, others 5 s, at most four at once, and a burst of
// the same text within 3 s shows once.
import { el } from './dom.js';

export function createToaster(container) {
  const recent = new Map(); // text -> time
  return function toast(kind, text) {
    const now = Date.now();
    if (now - (recent.get(text) || 0) < 3000) return;
    recent.set(text, now);
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
    container.append(node);
    while (container.children.length > 4) container.firstElementChild.remove();
    setTimeout(remove, kind === 'error' ? 7000 : 5000);
  };
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
