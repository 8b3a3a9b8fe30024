// Small DOM helpers. User data only ever goes through textContent / attributes,
// never through innerHTML.

export function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (attrs) for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

export const $ = (id) => document.getElementById(id);

// Reorders `parent`'s children to match `nodes` with few DOM moves (so focus and
// scroll anchors survive); nodes not in the list are removed.
export function syncChildren(parent, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...parent.children]) if (!wanted.has(child)) child.remove();
  let cursor = parent.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
}

// Appends text to `parent`, turning http(s) URLs into links (built as elements, so
// the text itself can never become markup).
const URL_PATTERN = /https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]}]/g;

export function appendLinkified(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    const link = el('a', { text: match[0], attrs: { href: match[0], target: '_blank', rel: 'noopener noreferrer nofollow' } });
    parent.append(link);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

export function initials(name) {
  const parts = String(name || '?').split(/[\s._-]+/).filter(Boolean);
  const letters = parts.length > 1
    ? [Array.from(parts[0])[0], Array.from(parts[1])[0]]
    : Array.from(parts[0] || '?').slice(0, 2);
  return letters.join('').toUpperCase();
}

// A stable, pleasant colour per user id.
export function userHue(userId) {
  return Math.round((Number(userId) || 0) * 137.508) % 360;
}
