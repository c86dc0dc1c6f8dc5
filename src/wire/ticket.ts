import { createHash, type KeyObject, randomInt, sign, verify } from 'node:crypto';

/**
 * Flow tickets: the orchestrator's signed statement that a flow of one contract may go from one
 * client node to one server node along one processor path. Every hop verifies the ticket, so the
 * codec treats its input as hostile: bounded lengths, exact sizes, one error type.
 *
 * Wire format (version 2), big-endian, strings are UTF-8 with a length prefix:
 *
 *   u8 version (= 2) · u8 flags (bit 0 proxyProtocol, bit 1 wouldDeny present; others 0)
 *   u32 keyId (which orchestrator key signed it: see ticketKeyId) · u32 contractId · u32 policyEpoch · u32 issuedAt · u32 expiresAt
 *   16 bytes srcNodeId · 16 bytes dstNodeId
 *   str8 domain · str8 contract · str8 src · str8 dst
 *   u8 hop count (1..16) · per hop: str8 name, str8 endpoint
 *   str8 dstEndpoint · [u16-length string wouldDeny, when flag bit 1]
 *
 * A token is base64url(body || Ed25519 signature). The signature covers SIGNING_CONTEXT || body
 * so that the orchestrator's key signing anything else can never yield a valid ticket.
 *
 * Version 1 had no key ID, so the signing key could never rotate; it is no longer accepted
 * (every hop and agent is upgraded with the orchestrator, and agents refetch on a refusal).
 */

export interface Hop {
  name: string;
  endpoint: string;
}

export interface FlowTicket {
  version: 2;
  /** ID of the key that signs it (ticketKeyId of its public key); the signer sets it. */
  keyId: number;
  contractId: number;
  policyEpoch: number;
  issuedAt: number;
  expiresAt: number;
  srcNodeId: string;
  dstNodeId: string;
  domain: string;
  contract: string;
  src: string;
  dst: string;
  path: Hop[];
  dstEndpoint: string;
  wouldDeny: string | null;
  proxyProtocol: boolean;
}

export type TicketErrorCode =
  | 'truncated'
  | 'bad-version'
  | 'bad-field'
  | 'trailing-bytes'
  | 'bad-address'
  | 'bad-key';

/**
 * Why verifyTicket refused a token: a decode error's TicketErrorCode, or a check made after
 * decoding. `bad-encoding`: not a string, too long, or not canonical base64url; `internal`: the
 * check itself threw (a hop refuses rather than crash). Mapped to a refusal code in one place
 * (src/node/dataplane/ticket-refusal.ts).
 */
export type TicketVerdictCode =
  | TicketErrorCode
  | 'bad-encoding'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'future'
  | 'internal';

export class TicketError extends Error {
  readonly code: TicketErrorCode;
  /** The ticket field concerned, e.g. "path[2].endpoint", when there is one. */
  readonly field: string | undefined;

  constructor(code: TicketErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'TicketError';
    this.code = code;
    this.field = field;
  }
}

/**
 * `unknownKeyId`: the ticket is signed by a key this hop does not hold (yet, or any more):
 * stale rather than forged, so the hop answers 412 and refetches its keys.
 */
export type TicketVerdict =
  | { ok: true; ticket: FlowTicket }
  | { ok: false; code: TicketVerdictCode; reason: string; unknownKeyId?: number };

/** The verifying keys a hop holds, by key ID; a single key stands for itself. */
export type TicketKeys = KeyObject | ((keyId: number) => KeyObject | undefined);

/**
 * A ticket key's ID: the first 4 bytes of SHA-256 of its raw 32-byte Ed25519 public key, so
 * every party derives the same ID from the key itself and no registry of IDs is needed.
 */
export function ticketKeyId(publicKey: KeyObject): number {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256')
    .update(spki.subarray(spki.length - 32))
    .digest()
    .readUInt32BE(0);
}

/** `0x1a2b3c4d` → `1a2b3c4d`: how key IDs are written in messages, logs and the API. */
export function keyIdHex(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** Longest token accepted; the largest valid ticket encodes to 4,002 characters. */
export const MAX_TOKEN_LENGTH = 4096;
export const MAX_HOPS = 16;
const MAX_NAME_BYTES = 63;
const MAX_WOULD_DENY_BYTES = 512;
const SIGNATURE_BYTES = 64;
/** Tolerated clock difference between the orchestrator and a hop for issuedAt. */
const CLOCK_SKEW_SECONDS = 60;
const SIGNING_CONTEXT = new TextEncoder().encode('trellis-flow-ticket\0');
const FLAG_PROXY = 0x01;
const FLAG_WOULD_DENY = 0x02;

// fatal: reject invalid UTF-8 instead of inventing U+FFFD; ignoreBOM: keep a leading U+FEFF so strings round-trip.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// Addresses

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// No leading zeros: "010" is octal to some parsers and decimal to others.
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const HEX_GROUP_RE = /^[0-9a-fA-F]{1,4}$/;

export function ipv4ToBytes(s: string): Uint8Array {
  const m = typeof s === 'string' ? IPV4_RE.exec(s) : null;
  if (!m) throw new TicketError('bad-address', `not an IPv4 address: ${quote(s)}`);
  return Uint8Array.from(m.slice(1, 5), Number);
}

/** Accepts any IPv6 text (with "::", with a trailing dotted IPv4); no zone ID. */
export function ipv6ToBytes(s: string): Uint8Array {
  const bad = () => new TicketError('bad-address', `not an IPv6 address: ${quote(s)}`);
  // 45 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", the longest valid text.
  if (typeof s !== 'string' || s.length > 45) throw bad();
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (!head || !tail) throw bad();
  // Without "::" all 8 groups are written; "::" stands for at least one zero group.
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) throw bad();
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function parseGroups(text: string, ipv4Allowed: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (ipv4Allowed && i === parts.length - 1 && part.includes('.')) {
      if (!IPV4_RE.test(part)) return null;
      const b = ipv4ToBytes(part);
      groups.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    } else if (HEX_GROUP_RE.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** Eight lowercase groups, no leading zeros, no "::" — the form node IDs are written in. */
export function bytesToIpv6(b: Uint8Array): string {
  if (!(b instanceof Uint8Array) || b.length !== 16) {
    throw new TicketError('bad-address', 'an IPv6 address is 16 bytes');
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** "a.b.c.d:port" or "[ipv6]:port", port 1..65535. */
function isEndpoint(s: string): boolean {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([1-9]\d{0,4})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return false;
  if (m[2] !== undefined) return IPV4_RE.test(m[2]);
  try {
    ipv6ToBytes(m[1]!);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The largest body: 2 + 20 + 32 + 4 × (1 + 63) + 1 + 16 × 2 × (1 + 63) + (1 + 63) + 2 + 512 =
 * 2,937 bytes. Tickets are written into this one buffer and copied out: the orchestrator's
 * crypto thread encodes ~100 per bundle, and building a number[] with a pushed byte each (as
 * before) cost more than half of what the Ed25519 signature does.
 */
const scratch = Buffer.allocUnsafe(4096);

export function encodeTicket(t: FlowTicket): Uint8Array {
  if (t === null || typeof t !== 'object') throw new TicketError('bad-field', 'a ticket must be an object');
  if (t.version !== 2) throw new TicketError('bad-version', `unsupported ticket version ${t.version}`);
  if (typeof t.proxyProtocol !== 'boolean') throw badField('proxyProtocol', 'must be a boolean');
  scratch[0] = 2;
  scratch[1] = (t.proxyProtocol ? FLAG_PROXY : 0) | (t.wouldDeny !== null ? FLAG_WOULD_DENY : 0);
  let o = writeU32(2, t.keyId, 'keyId');
  if (t.contractId === 0) throw badField('contractId', 'must be 1..4294967295');
  for (const f of ['contractId', 'policyEpoch', 'issuedAt', 'expiresAt'] as const) o = writeU32(o, t[f], f);
  checkTimes(t.issuedAt, t.expiresAt);
  for (const f of ['srcNodeId', 'dstNodeId'] as const) {
    try {
      scratch.set(nodeIdBytes(t[f]), o);
    } catch {
      throw badField(f, `must be an IPv6 address, got ${quote(t[f])}`);
    }
    o += 16;
  }
  for (const f of ['domain', 'contract', 'src', 'dst'] as const) o = writeStr8(o, t[f], f);
  if (!Array.isArray(t.path) || t.path.length < 1 || t.path.length > MAX_HOPS) {
    throw badField('path', `must have 1..${MAX_HOPS} hops`);
  }
  scratch[o++] = t.path.length;
  t.path.forEach((hop, i) => {
    o = writeStr8(o, hop?.name, `path[${i}].name`);
    o = writeEndpoint(o, hop?.endpoint, `path[${i}].endpoint`);
  });
  o = writeEndpoint(o, t.dstEndpoint, 'dstEndpoint');
  if (t.wouldDeny !== null) {
    const n = utf8Length(t.wouldDeny, 'wouldDeny', MAX_WOULD_DENY_BYTES);
    scratch.writeUInt16BE(n, o);
    o += 2 + scratch.write(t.wouldDeny as string, o + 2, n, 'utf8');
  }
  return new Uint8Array(scratch.subarray(0, o));
}

function writeU32(o: number, n: unknown, field: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw badField(field, `must be an integer 0..4294967295, got ${String(n)}`);
  }
  scratch.writeUInt32BE(n, o);
  return o + 4;
}

function writeStr8(o: number, s: unknown, field: string): number {
  const n = utf8Length(s, field, MAX_NAME_BYTES);
  scratch[o] = n;
  return o + 1 + scratch.write(s as string, o + 1, n, 'utf8');
}

function writeEndpoint(o: number, s: unknown, field: string): number {
  if (typeof s !== 'string' || !validEndpoint(s)) {
    throw badField(field, `must be "a.b.c.d:port" or "[ipv6]:port", got ${quote(s)}`);
  }
  return writeStr8(o, s, field);
}

/** The UTF-8 length of a field's string, checked: well-formed Unicode, 1..max bytes. */
function utf8Length(s: unknown, field: string, max: number): number {
  if (typeof s !== 'string') throw badField(field, 'must be a string');
  // A lone surrogate would be encoded as U+FFFD and come back as a different string.
  if (/\p{Cs}/u.test(s)) throw badField(field, 'is not well-formed Unicode');
  const n = Buffer.byteLength(s, 'utf8');
  if (n < 1 || n > max) throw badField(field, `must be 1..${max} bytes, got ${n}`);
  return n;
}

/**
 * What the encoder has already parsed or checked, by text: a bundle's tickets name the same
 * nodes and hops again and again (1,000 agents, ~1,000 node IDs, a few endpoints). Pure
 * functions of their text, so remembering them changes nothing but time; bounded (emptied
 * when full). Only what passed is kept: a bad value is judged (and refused) every time.
 */
const MEMO_MAX = 4096;
const nodeIds = new Map<string, Uint8Array>();
const endpoints = new Set<string>();

function nodeIdBytes(s: string): Uint8Array {
  const known = nodeIds.get(s);
  if (known) return known;
  const b = ipv6ToBytes(s);
  if (nodeIds.size >= MEMO_MAX) nodeIds.clear();
  nodeIds.set(s, b);
  return b;
}

function validEndpoint(s: string): boolean {
  if (endpoints.has(s)) return true;
  if (!isEndpoint(s)) return false;
  if (endpoints.size >= MEMO_MAX) endpoints.clear();
  endpoints.add(s);
  return true;
}

function checkTimes(issuedAt: number, expiresAt: number): void {
  if (expiresAt <= issuedAt) throw badField('expiresAt', `must be after issuedAt (${issuedAt})`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(n: number, field: string): Uint8Array {
    if (this.offset + n > this.bytes.length)
      throw new TicketError('truncated', `truncated at ${field}`, field);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(field: string): number {
    return this.take(1, field)[0]!;
  }
  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0]! << 8) | b[1]!;
  }
  u32(field: string): number {
    const b = this.take(4, field);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
  str(field: string, length: number, max: number): string {
    if (length < 1 || length > max) throw badField(field, `length ${length} is not 1..${max}`);
    const b = this.take(length, field);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw badField(field, 'is not valid UTF-8');
    }
  }
  str8(field: string): string {
    return this.str(field, this.u8(field), MAX_NAME_BYTES);
  }
  endpoint(field: string): string {
    const s = this.str8(field);
    if (!isEndpoint(s)) throw badField(field, `is not "a.b.c.d:port" or "[ipv6]:port": ${quote(s)}`);
    return s;
  }
  end(): void {
    const extra = this.bytes.length - this.offset;
    if (extra > 0) throw new TicketError('trailing-bytes', `${extra} unexpected bytes after the ticket`);
  }
}

export function decodeTicket(bytes: Uint8Array): FlowTicket {
  if (!(bytes instanceof Uint8Array)) throw new TicketError('bad-field', 'a ticket is a byte array');
  const r = new Reader(bytes);
  const version = r.u8('version');
  if (version !== 2) throw new TicketError('bad-version', `unsupported ticket version ${version}`, 'version');
  const flags = r.u8('flags');
  if (flags & ~(FLAG_PROXY | FLAG_WOULD_DENY)) throw badField('flags', `unknown flag bits 0x${hex2(flags)}`);
  const keyId = r.u32('keyId');
  const contractId = r.u32('contractId');
  if (contractId === 0) throw badField('contractId', 'must be 1..4294967295');
  const policyEpoch = r.u32('policyEpoch');
  const issuedAt = r.u32('issuedAt');
  const expiresAt = r.u32('expiresAt');
  checkTimes(issuedAt, expiresAt);
  const srcNodeId = bytesToIpv6(r.take(16, 'srcNodeId'));
  const dstNodeId = bytesToIpv6(r.take(16, 'dstNodeId'));
  const domain = r.str8('domain');
  const contract = r.str8('contract');
  const src = r.str8('src');
  const dst = r.str8('dst');
  const hops = r.u8('path');
  if (hops < 1 || hops > MAX_HOPS) throw badField('path', `${hops} hops is not 1..${MAX_HOPS}`);
  const path: Hop[] = [];
  for (let i = 0; i < hops; i++) {
    path.push({ name: r.str8(`path[${i}].name`), endpoint: r.endpoint(`path[${i}].endpoint`) });
  }
  const dstEndpoint = r.endpoint('dstEndpoint');
  const wouldDeny =
    flags & FLAG_WOULD_DENY ? r.str('wouldDeny', r.u16('wouldDeny'), MAX_WOULD_DENY_BYTES) : null;
  r.end();
  return {
    version: 2,
    keyId,
    contractId,
    policyEpoch,
    issuedAt,
    expiresAt,
    srcNodeId,
    dstNodeId,
    domain,
    contract,
    src,
    dst,
    path,
    dstEndpoint,
    wouldDeny,
    proxyProtocol: (flags & FLAG_PROXY) !== 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Signing

export function signTicket(t: FlowTicket, privateKey: KeyObject): string {
  if (privateKey?.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TicketError('bad-key', 'tickets are signed with an Ed25519 private key');
  }
  const body = encodeTicket(t);
  const signature = sign(null, signedMessage(body), privateKey);
  return Buffer.concat([body, signature]).toString('base64url');
}

/**
 * Never throws. Order: size, structure (the decoder is total and bounded, and cheaper than a
 * signature check), signature, and only then the fields: expiry and issue time. The caller
 * checks what needs state: the policy epoch and that it is the next hop on the path.
 */
export function verifyTicket(token: string, keys: TicketKeys, now = Date.now() / 1000): TicketVerdict {
  try {
    if (typeof token !== 'string') return refuse('bad-encoding', 'malformed ticket: not a string');
    if (token.length > MAX_TOKEN_LENGTH) {
      return refuse(
        'bad-encoding',
        `malformed ticket: ${token.length} characters, more than ${MAX_TOKEN_LENGTH}`,
      );
    }
    const raw = Buffer.from(token, 'base64url');
    // Node's decoder skips junk; re-encoding catches it and any second spelling of the same bytes.
    if (!/^[A-Za-z0-9_-]*$/.test(token) || raw.toString('base64url') !== token) {
      return refuse('bad-encoding', 'malformed ticket: not base64url');
    }
    if (raw.length <= SIGNATURE_BYTES) return refuse('truncated', 'malformed ticket: truncated at signature');
    const body = raw.subarray(0, raw.length - SIGNATURE_BYTES);
    const signature = raw.subarray(raw.length - SIGNATURE_BYTES);
    let ticket: FlowTicket;
    try {
      ticket = decodeTicket(body);
    } catch (e) {
      return refuse(
        e instanceof TicketError ? e.code : 'bad-field',
        `malformed ticket: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const publicKey = typeof keys === 'function' ? keys(ticket.keyId) : keys;
    if (publicKey === undefined) {
      return {
        ok: false,
        code: 'unknown-key',
        reason: `ticket signed by unknown key ${keyIdHex(ticket.keyId)} (stale keys: refetching)`,
        unknownKeyId: ticket.keyId,
      };
    }
    if (publicKey?.asymmetricKeyType !== 'ed25519')
      return refuse('bad-key', 'verification key is not Ed25519');
    if (!verify(null, signedMessage(body), publicKey, signature))
      return refuse('bad-signature', 'bad signature');
    if (now >= ticket.expiresAt)
      return refuse('expired', `ticket expired at ${isoSeconds(ticket.expiresAt)}`);
    if (ticket.issuedAt > now + CLOCK_SKEW_SECONDS) {
      return refuse(
        'future',
        `ticket issued in the future (${isoSeconds(ticket.issuedAt)}); check the clocks`,
      );
    }
    return { ok: true, ticket };
  } catch (e) {
    // Belt and braces: a hop must refuse, not crash, whatever it is sent.
    return refuse('internal', `ticket not verified: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A random 20-bit flow label (like IPv6's), never 0 so that 0 can mean "none". */
export function flowLabel(): number {
  return randomInt(1, 0x100000);
}

// ---------------------------------------------------------------------------------------------

function signedMessage(body: Uint8Array): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, body]);
}

function refuse(code: TicketVerdictCode, reason: string): TicketVerdict {
  return { ok: false, code, reason };
}

function badField(field: string, problem: string): TicketError {
  return new TicketError('bad-field', `${field} ${problem}`, field);
}

function isoSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Quotes a value for an error message without letting a huge input make a huge message. */
function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
