// REST calls (PROTOCOL.md "REST"). Errors come back as 400 {"id", "message"}.

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
  throw new ApiError(
    error.id || `HTTP_${response.status}`,
    error.message || `The server answered ${response.status}. Please try again.`,
    response.status,
  );
}

export const login = (email, password) => post('/api/login', { email, password });
export const createAccount = (username, email, password) =>
  post('/api/create-account', { username, email, password });
export const logout = () => post('/api/logout');
