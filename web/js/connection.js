// The WebSocket to /api/ws with reconnection (exponential backoff + jitter), following the
// close codes of docs/protocol.md:
// - 1008 "no valid session": reported as onUnauthorized; no retry until start() (after a login).
// - 4008 "too many connections of this user": reported as onDisplaced; no automatic retry (it
//   would close another tab in turn) until the user asks (retryNow) or start() is called.
// - 1012 "service restart" with reason `reconnect:<ms>`: wait that long plus a random jitter.
// - anything else (1001, 1013, 4010, network loss): reconnect with backoff; the client resumes
//   after the new hello.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

export const POLICY_VIOLATION = 1008;
export const SERVICE_RESTART = 1012;
export const TOO_MANY_CONNECTIONS = 4008;
const RESTART_JITTER_MS = 1000;

export function wsUrl(location = globalThis.location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/ws`;
}

// Delay before reconnect attempt `attempt` (0-based): "equal jitter", so retries of many
// clients after a server restart spread out but still come back quickly on average.
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// A draining server closes with 1012 "reconnect:<ms>": wait that long plus a random jitter, so
// its clients do not all arrive at the next server together. Null for any other close.
export function restartDelay(code, reason, random = Math.random) {
  if (code !== SERVICE_RESTART) return null;
  const match = /^reconnect:(\d{1,9})$/.exec(reason ?? '');
  return match ? Number(match[1]) + Math.round(random() * RESTART_JITTER_MS) : null;
}

export class Connection {
  // handlers: onOpen(), onEvent(event), onClose(code), onUnauthorized(), onDisplaced(),
  // onStatus(status)
  // status: {state: 'connecting'|'online'|'waiting'|'stopped', retryAt?: ms timestamp,
  //          displaced?: true (stopped by 4008)}
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.running = false;
    this.status = { state: 'stopped' };
    this.onOnline = () => this.retryNow();
    globalThis.addEventListener?.('online', this.onOnline);
  }

  start() {
    this.running = true;
    this.attempt = 0;
    this.open();
  }

  // Closes for good (logout); no reconnect.
  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
    this.setStatus({ state: 'stopped' });
  }

  // The first event of a connection was a valid hello: the link is healthy again.
  confirmed() {
    this.attempt = 0;
  }

  retryNow() {
    if (this.status.displaced) {
      this.start(); // the user asked for this tab back (another of theirs may give way)
      return;
    }
    if (!this.running || this.status.state !== 'waiting') return;
    clearTimeout(this.timer);
    this.open();
  }

  send(type, payload) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ type, payload }));
    return true;
  }

  open() {
    clearTimeout(this.timer);
    this.timer = null;
    this.setStatus({ state: 'connecting' });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.setStatus({ state: 'online' });
      this.handlers.onOpen?.();
    };
    ws.onmessage = (message) => {
      if (typeof message.data !== 'string') return; // binary frames are not part of the protocol
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      this.handlers.onEvent?.(event);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.onClose?.(close.code);
      if (close.code === POLICY_VIOLATION) {
        this.running = false;
        this.setStatus({ state: 'stopped' });
        this.handlers.onUnauthorized?.();
        return;
      }
      if (close.code === TOO_MANY_CONNECTIONS) {
        this.running = false;
        this.setStatus({ state: 'stopped', displaced: true });
        this.handlers.onDisplaced?.();
        return;
      }
      this.scheduleReconnect(restartDelay(close.code, close.reason));
    };
    ws.onerror = () => {}; // onclose follows and handles it
  }

  // `told`: the delay the server asked for (1012), else exponential backoff.
  scheduleReconnect(told = null) {
    if (!this.running) return;
    const delay = told ?? backoffDelay(this.attempt++);
    this.setStatus({ state: 'waiting', retryAt: Date.now() + delay });
    this.timer = setTimeout(() => this.open(), delay);
  }

  setStatus(status) {
    this.status = status;
    this.handlers.onStatus?.(status);
  }
}
