// The dashboard's one way to talk to concord's JSON API under /v1: every
// request carries the signed-in token as a bearer token, and an answer that
// is not 2xx becomes an ApiError with the HTTP status and the API's error code.
// The token lives in sessionStorage, so it ends with the browser tab.
// Answers are parsed by web/json.js, which keeps integers beyond 2^53 exact.

import {jsonParse} from './json.js';

const TOKEN_KEY = 'concord.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // HTTP status of the answer
    this.code = code;     // the API's error.code, e.g. "forbidden"
  }
}

export function tokenGet() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function tokenSet(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function tokenClear() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// api('/v1/parties') or api('/v1/scenario', {method: 'POST', body: {...}}).
export async function api(path, {method = 'GET', body, token = tokenGet()} = {}) {
  const headers = {Accept: 'application/json'};
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = {method, headers, cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  try { json = text ? jsonParse(text) : null; } catch { json = null; }
  if (!response.ok) {
    const error = json && json.error ? json.error : {};
    throw new ApiError(response.status, error.code || 'http_error',
                       error.message || `${method} ${path}: HTTP ${response.status}`);
  }
  return json;
}
