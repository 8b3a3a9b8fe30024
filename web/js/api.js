// REST calls (docs/protocol.md "REST"). Success is 204 No Content; errors come back as JSON
// {"id", "message"} (400, 403, 415, 429 and 503 with `retryAfterMs`).

export class ApiError extends Error {
  constructor(id, message, status) {
    super(message);
    this.id = id;
    this.status = status;
  }
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('NETWORK', 'Cannot reach the server. Check your connection and try again.', 0);
  }
  if (response.ok) return null;
  let error = {};
  try {
    error = await response.json();
  } catch {
    // not JSON: fall through to a generic message
  }
  let message = error.message || `The server answered ${response.status}. Please try again.`;
  // 429 (too many attempts) and 503 (busy) say when to come back.
  const retrySeconds = Math.ceil((error.retryAfterMs ?? 0) / 1000) ||
    Number(response.headers.get('Retry-After')) || 0;
  if (response.status === 429 && retrySeconds > 0)
    message = `Too many attempts. Please try again in ${retrySeconds} s.`;
  else if (response.status === 503 && retrySeconds > 0)
    message = `The server is busy. Please try again in ${retrySeconds} s.`;
  throw new ApiError(error.id || `HTTP_${response.status}`, message, response.status);
}

export const login = (email, password) => post('/api/login', { email, password });
export const createAccount = (username, email, password) =>
  post('/api/create-account', { username, email, password });
export const logout = () => post('/api/logout');
