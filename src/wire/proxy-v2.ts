import { bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from './ticket.js';

/**
 * PROXY protocol v2 (HAProxy's proxy-protocol.txt, section 2.2): the server agent prepends it so
 * that the workload learns who the client really is, not the agent it accepted the flow from.
 * Only what Trellis sends is encoded: command PROXY over TCP. The parser accepts TLVs (skips them)
 * and refuses LOCAL, UDP and UNIX headers, since no Trellis agent sends them.
 */

export interface ProxyAddress {
  address: string;
  port: number;
}

export type ProxyParse =
  | { state: 'need-more' }
  | { state: 'done'; src: ProxyAddress; dst: ProxyAddress; headerLength: number }
  | { state: 'invalid'; reason: string };

export class ProxyV2Error extends Error {
  readonly code: 'bad-address' | 'bad-port';

  constructor(code: 'bad-address' | 'bad-port', message: string) {
    super(message);
    this.name = 'ProxyV2Error';
    this.code = code;
  }
}

export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const VERSION_2_PROXY = 0x21;
const VERSION_2_LOCAL = 0x20;
const TCP4 = 0x11;
const TCP6 = 0x21;
const FIXED_LENGTH = 16;

/**
 * IPv4-mapped IPv6 (what a dual-stack socket reports for an IPv4 peer) is sent as IPv4. If one
 * side is IPv4 and the other IPv6, both are sent as IPv6 (IPv4 mapped), which loses nothing.
 */
export function encodeProxyV2(src: ProxyAddress, dst: ProxyAddress): Buffer {
  let s = addressBytes(src, 'src');
  let d = addressBytes(dst, 'dst');
  if (s.length !== d.length) {
    s = s.length === 4 ? mapped(s) : s;
    d = d.length === 4 ? mapped(d) : d;
  }
  const v4 = s.length === 4;
  const out = Buffer.alloc(FIXED_LENGTH + (v4 ? 12 : 36));
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = VERSION_2_PROXY;
  out[13] = v4 ? TCP4 : TCP6;
  out.writeUInt16BE(out.length - FIXED_LENGTH, 14);
  out.set(s, 16);
  out.set(d, 16 + s.length);
  out.writeUInt16BE(src.port, 16 + 2 * s.length);
  out.writeUInt16BE(dst.port, 18 + 2 * s.length);
  return out;
}

/** Incremental: pass everything received so far; "need-more" until the whole header is there. */
export function parseProxyV2(buf: Uint8Array): ProxyParse {
  const have = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  for (let i = 0; i < have; i++) {
    if (buf[i] !== PROXY_V2_SIGNATURE[i]) {
      const v1 = buf[0] === 0x50; // "P" of the text "PROXY TCP4 …"
      return invalid(v1 ? 'PROXY protocol v1 (text) is not supported, only v2' : 'no PROXY v2 signature');
    }
  }
  if (buf.length < FIXED_LENGTH) return { state: 'need-more' };
  const verCmd = buf[12]!;
  if (verCmd === VERSION_2_LOCAL) return invalid('LOCAL command is not supported: Trellis agents send PROXY');
  if (verCmd !== VERSION_2_PROXY) return invalid(`unsupported version/command byte 0x${hex2(verCmd)}`);
  const family = buf[13]!;
  if (family !== TCP4 && family !== TCP6) {
    return invalid(`unsupported address family/protocol 0x${hex2(family)} (only TCP4 0x11 and TCP6 0x21)`);
  }
  const length = (buf[14]! << 8) | buf[15]!;
  const addrLength = family === TCP4 ? 4 : 16;
  if (length < 2 * addrLength + 4) {
    return invalid(`length ${length} is too short for ${family === TCP4 ? 'TCP4' : 'TCP6'} addresses`);
  }
  if (buf.length < FIXED_LENGTH + length) return { state: 'need-more' };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = (at: number) =>
    addrLength === 4 ? buf.subarray(at, at + 4).join('.') : bytesToIpv6(buf.subarray(at, at + 16));
  const ports = FIXED_LENGTH + 2 * addrLength;
  return {
    state: 'done',
    src: { address: text(FIXED_LENGTH), port: view.getUint16(ports) },
    dst: { address: text(FIXED_LENGTH + addrLength), port: view.getUint16(ports + 2) },
    headerLength: FIXED_LENGTH + length, // TLVs, if any, are part of the header and skipped
  };
}

function addressBytes(a: ProxyAddress, side: string): Uint8Array {
  if (!Number.isInteger(a?.port) || a.port < 0 || a.port > 65535) {
    throw new ProxyV2Error('bad-port', `${side} port must be 0..65535, got ${String(a?.port)}`);
  }
  const text = String(a.address);
  try {
    if (!text.includes(':')) return ipv4ToBytes(text);
    // A zone ID ("fe80::1%eth0") only means something on the local host; the header has no room for it.
    const b = ipv6ToBytes(text.replace(/%.*$/, ''));
    const isMapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    return isMapped ? b.subarray(12) : b;
  } catch {
    throw new ProxyV2Error(
      'bad-address',
      `${side} address must be IPv4 or IPv6, got ${JSON.stringify(text)}`,
    );
  }
}

function mapped(v4: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  b.set(v4, 12);
  return b;
}

function invalid(reason: string): ProxyParse {
  return { state: 'invalid', reason };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
