/**
 * An enrolment token, as an operator copies it to a host: everything a new node needs to join
 * without a password — where the orchestrator is, the CA fingerprint to pin before anything is
 * sent (like kubeadm's discovery hash), and a one-off secret. Pure codec; the orchestrator
 * keeps only the secret's SHA-256.
 *
 *   trellis-enrol.<base64url(JSON {v:1, url, ca, id, secret})>
 */
export interface EnrolmentToken {
  url: string;
  /** `sha256:<hex>` of the fabric CA. */
  ca: string;
  /** Public identifier (listed, revoked and audited by it). */
  id: string;
  /** 32 random bytes, base64url. */
  secret: string;
}

const PREFIX = 'trellis-enrol.';
const MAX_LENGTH = 2048;

export function encodeEnrolmentToken(t: EnrolmentToken): string {
  const body = JSON.stringify({ v: 1, url: t.url, ca: t.ca, id: t.id, secret: t.secret });
  return PREFIX + Buffer.from(body).toString('base64url');
}

/** The token, or a sentence saying what is wrong with the text (never the secret). */
export function decodeEnrolmentToken(text: string): EnrolmentToken | string {
  const s = text.trim();
  if (!s.startsWith(PREFIX)) return `not an enrolment token (it must start with "${PREFIX}")`;
  if (s.length > MAX_LENGTH) return 'enrolment token is too long';
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return 'enrolment token is damaged (not base64url JSON); copy it again';
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o.v !== 1) return 'enrolment token of an unknown version';
  for (const k of ['url', 'ca', 'id', 'secret'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') return `enrolment token has no ${k}`;
  }
  if (!/^https?:\/\//.test(o.url as string)) return 'enrolment token has no http(s) URL';
  if (!/^sha256:[0-9a-f]{64}$/.test(o.ca as string)) return 'enrolment token has no sha256 CA fingerprint';
  if (!/^tok-[0-9a-f]{8,32}$/.test(o.id as string)) return 'enrolment token has a malformed id';
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(o.secret as string)) return 'enrolment token has a malformed secret';
  return { url: o.url as string, ca: o.ca as string, id: o.id as string, secret: o.secret as string };
}
