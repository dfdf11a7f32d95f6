// @ts-check
/**
 * The manager's REST API from the browser. The session token lives in sessionStorage and goes
 * out only as `Authorization: Bearer`: no cookie, so another site cannot make the browser send
 * it (no CSRF), and it ends with the tab. docs/console.md says why this over cookies.
 */
const TOKEN_KEY = 'vmcrypt.session';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @returns {string | null} */
export function sessionToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @type {() => void} */
let onUnauthenticated = () => {};
/** Where to go when the token stops working (expired, revoked, manager restarted with a new DB). */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  const token = sessionToken();
  const headers = /** @type {Record<string, string>} */ ({ accept: 'application/json' });
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let json = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = json?.error;
    const err = new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (res.statusText || 'request failed'));
    if (res.status === 401 && token !== null && path !== '/api/session') {
      sessionStorage.removeItem(TOKEN_KEY);
      onUnauthenticated();
    }
    throw err;
  }
  return json;
}

export const get = (/** @type {string} */ path) => api('GET', path);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body = {}) => api('POST', path, body);
export const put = (/** @type {string} */ path, /** @type {unknown} */ body = {}) => api('PUT', path, body);
export const del = (/** @type {string} */ path) => api('DELETE', path);

/** @param {string} user @param {string} password */
export async function login(user, password) {
  const r = await api('POST', '/api/session', { user, password });
  sessionStorage.setItem(TOKEN_KEY, r.token);
  return r;
}

export async function logout() {
  try {
    if (sessionToken() !== null) await api('DELETE', '/api/session');
  } finally {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

/** @param {Record<string, string | number | boolean | undefined>} q */
export function query(q) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
