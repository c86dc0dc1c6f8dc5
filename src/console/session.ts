import { ApiClient, ApiError } from '../api-client/client.js';

export interface Session {
  token: string;
  expiresAt: string;
  username: string;
  role: string;
  domain: string | null;
}

const KEY = 'trellis.session';
const FLASH = 'trellis.flash';

/** The session lives in sessionStorage: it survives a reload, not the closing of the tab. */
export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const s = JSON.parse(raw) as Session;
  return Date.parse(s.expiresAt) > Date.now() ? s : null;
}

export async function login(username: string, password: string, domain?: string): Promise<Session> {
  const anon = new ApiClient(location.origin);
  const res = await anon.login(username, password, domain);
  if (res.principal.type !== 'admin') {
    throw new ApiError(403, {
      code: 'TRELLIS_ERR_FORBIDDEN',
      message: `"${username}" is a resource user: the console is for admin users`,
    });
  }
  const s: Session = {
    token: res.token,
    expiresAt: res.expiresAt,
    username,
    role: String(res.principal.role),
    domain: (res.principal.domain as string | null) ?? null,
  };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export function logout(flash?: string): void {
  sessionStorage.removeItem(KEY);
  if (flash) sessionStorage.setItem(FLASH, flash);
}

/** A message for the login page (e.g. why the user landed there), read once. */
export function takeFlash(): string | null {
  const f = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  return f;
}

let onExpired: () => void = () => {};
export function whenExpired(fn: () => void): void {
  onExpired = fn;
}

export function expire(): void {
  logout('Your session expired — log in again.');
  onExpired();
}

/**
 * Runs an API call with the session's token; a 401 (expired or revoked token) ends the
 * session and returns to the login page with a message, instead of a page full of errors.
 */
export async function api<T>(fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const s = currentSession();
  if (!s) {
    expire();
    throw new ApiError(401, { code: 'TRELLIS_ERR_UNAUTHENTICATED', message: 'not logged in' });
  }
  try {
    return await fn(new ApiClient(location.origin, s.token));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) expire();
    throw err;
  }
}
