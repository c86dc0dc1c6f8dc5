import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The voter's identity: 128 random bits in a cookie. HttpOnly keeps page scripts from reading
 * it; SameSite=Lax keeps other sites from casting ballots with it (a cross-site POST does not
 * carry it); a long Max-Age keeps the same voter across browser restarts, so voting again
 * replaces the earlier ballot instead of adding one.
 */
export const VOTER_COOKIE = 'voter_id';
/** 400 days, the most browsers accept. */
export const VOTER_COOKIE_MAX_AGE = 400 * 24 * 3600;

export function newVoterId(): string {
  return randomBytes(16).toString('hex');
}

/** The voter id from the request's cookies, if there is a well-formed one. */
export function voterIdFrom(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== VOTER_COOKIE) continue;
    const v = part.slice(eq + 1).trim();
    if (/^[0-9a-f]{32}$/.test(v)) return v;
  }
  return undefined;
}

export function voterCookie(voterId: string, secure = false): string {
  return `${VOTER_COOKIE}=${voterId}; Path=/; Max-Age=${VOTER_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
