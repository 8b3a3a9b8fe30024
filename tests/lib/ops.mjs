// Helpers for the operator endpoints (/metrics, /healthz, /readyz): fetching with the metrics
// token, `promtool check metrics`, and reading one sample out of the text format.
import { spawn } from 'node:child_process';

export async function get(baseUrl, path, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(baseUrl + path, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

// Resolves with {code, output} of `promtool check metrics` fed with `text`.
export function promtoolCheck(text) {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => reject(new Error(`promtool: ${e.message} (install it: scripts/install-deps.sh e2e)`)));
    child.on('exit', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

// The value of the sample `name{labels}` (labels as written, e.g. 'code="1000"'), or undefined.
export function sample(text, name, labels = '') {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length).split(' ')[0]);
}

// Polls `path` until it answers `status`; resolves with the milliseconds it took.
export async function waitStatus(baseUrl, path, status, timeoutMs) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = (await get(baseUrl, path)).status;
      if (last === status) return Date.now() - t0;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${baseUrl}${path} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}
