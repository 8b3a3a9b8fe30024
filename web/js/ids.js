// Message ids are "<seq>-<n>" (docs/protocol.md). They must be compared as integer pairs:
// as strings "10-0" < "9-0", which would break ordering, dedupe and resume.

const cache = new Map();

// Returns [seq, n] as numbers; malformed ids sort before everything ([-1, -1]).
export function parseId(id) {
  let parsed = cache.get(id);
  if (parsed) return parsed;
  const match = /^(\d+)-(\d+)$/.exec(String(id));
  parsed = match ? [Number(match[1]), Number(match[2])] : [-1, -1];
  if (cache.size > 50000) cache.clear();
  cache.set(id, parsed);
  return parsed;
}

// Negative when a < b, 0 when equal, positive when a > b.
export function compareIds(a, b) {
  const [seqA, nA] = parseId(a);
  const [seqB, nB] = parseId(b);
  return seqA !== seqB ? seqA - seqB : nA - nB;
}

export function isValidId(id) {
  return parseId(id)[0] >= 0;
}

export const ZERO_ID = '0-0';
