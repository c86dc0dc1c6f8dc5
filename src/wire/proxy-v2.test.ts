import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProxyV2, PROXY_V2_SIGNATURE, ProxyV2Error, parseProxyV2 } from './proxy-v2.js';
import { bytesToIpv6 } from './ticket.js';

const port = fc.integer({ min: 0, max: 65535 });
const v4 = fc.record({ address: fc.ipV4(), port });
const v6 = fc.record({ address: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(bytesToIpv6), port });

describe('PROXY protocol v2', () => {
  it('encodes 127.0.1.11:40000 → 127.0.2.12:8002 as the spec says', () => {
    const expected = [
      '0d0a0d0a000d0a515549540a', // signature
      '21', // version 2, command PROXY
      '11', // AF_INET, STREAM
      '000c', // 12 bytes follow
      '7f00010b', // src 127.0.1.11
      '7f00020c', // dst 127.0.2.12
      '9c40', // src port 40000
      '1f42', // dst port 8002
    ].join('');
    const header = encodeProxyV2(
      { address: '127.0.1.11', port: 40000 },
      { address: '127.0.2.12', port: 8002 },
    );
    expect(header.toString('hex')).toBe(expected);
    expect(parseProxyV2(Buffer.from(expected, 'hex'))).toEqual({
      state: 'done',
      src: { address: '127.0.1.11', port: 40000 },
      dst: { address: '127.0.2.12', port: 8002 },
      headerLength: 28,
    });
  });

  it('round-trips IPv4 and IPv6', () => {
    for (const family of [v4, v6]) {
      fc.assert(
        fc.property(family, family, (src, dst) => {
          const header = encodeProxyV2(src, dst);
          expect(header.length).toBe(src.address.includes(':') ? 52 : 28);
          expect(parseProxyV2(header)).toEqual({ state: 'done', src, dst, headerLength: header.length });
        }),
      );
    }
  });

  it('sends IPv4-mapped IPv6 as IPv4, and a mixed pair as IPv6', () => {
    const mapped = encodeProxyV2({ address: '::ffff:127.0.0.1', port: 1 }, { address: '127.0.0.2', port: 2 });
    expect(mapped[13]).toBe(0x11);
    expect(parseProxyV2(mapped)).toMatchObject({
      src: { address: '127.0.0.1' },
      dst: { address: '127.0.0.2' },
    });
    const mixed = encodeProxyV2({ address: 'fd00::1', port: 1 }, { address: '127.0.0.2', port: 2 });
    expect(mixed[13]).toBe(0x21);
    expect(parseProxyV2(mixed)).toMatchObject({
      src: { address: 'fd00:0:0:0:0:0:0:1' },
      dst: { address: '0:0:0:0:0:ffff:7f00:2' },
    });
  });

  it('needs more until the whole header has arrived, fed one byte at a time', () => {
    const header = encodeProxyV2({ address: 'fd00::1', port: 5000 }, { address: 'fd00::2', port: 8002 });
    const stream = Buffer.concat([header, Buffer.from('GET / HTTP/1.1\r\n')]);
    for (let n = 0; n < header.length; n++)
      expect(parseProxyV2(stream.subarray(0, n))).toEqual({ state: 'need-more' });
    for (let n = header.length; n <= stream.length; n++) {
      expect(parseProxyV2(stream.subarray(0, n))).toMatchObject({
        state: 'done',
        headerLength: header.length,
      });
    }
  });

  it('skips TLVs, counting them in the header length', () => {
    const header = encodeProxyV2({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 });
    const tlv = Buffer.from([0x04, 0x00, 0x00]); // PP2_TYPE_NOOP, empty
    const withTlv = Buffer.concat([header, tlv]);
    withTlv.writeUInt16BE(12 + tlv.length, 14);
    expect(parseProxyV2(withTlv.subarray(0, -1))).toEqual({ state: 'need-more' });
    expect(parseProxyV2(withTlv)).toMatchObject({ state: 'done', headerLength: 31, dst: { port: 2 } });
  });

  it('says why garbage is not a header', () => {
    const header = encodeProxyV2({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 });
    const patch = (at: number, value: number) => {
      const b = Buffer.from(header);
      b[at] = value;
      return b;
    };
    const reason = (b: Uint8Array) => {
      const r = parseProxyV2(b);
      return r.state === 'invalid' ? r.reason : r.state;
    };
    expect(reason(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('no PROXY v2 signature');
    expect(reason(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'))).toMatch(/v1/);
    expect(reason(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b]))).toBe('no PROXY v2 signature'); // fails before 12 bytes
    expect(reason(patch(12, 0x11))).toMatch(/version\/command byte 0x11/);
    expect(reason(patch(12, 0x20))).toMatch(/LOCAL/);
    expect(reason(patch(13, 0x12))).toMatch(/family\/protocol 0x12/);
    expect(reason(patch(15, 4))).toMatch(/length 4 is too short for TCP4/);
  });

  it('never throws on random or corrupted input', () => {
    const header = encodeProxyV2({ address: 'fd00::1', port: 1 }, { address: 'fd00::2', port: 2 });
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.concat([PROXY_V2_SIGNATURE, b])),
      fc.tuple(fc.nat(header.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
        const b = Buffer.from(header);
        b[at]! ^= xor;
        return b;
      }),
    );
    fc.assert(
      fc.property(inputs, (b) => {
        expect(['need-more', 'done', 'invalid']).toContain(parseProxyV2(b).state);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode what is not an address or port', () => {
    expect(() => encodeProxyV2({ address: 'localhost', port: 1 }, { address: '127.0.0.1', port: 2 })).toThrow(
      ProxyV2Error,
    );
    expect(() =>
      encodeProxyV2({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 65536 }),
    ).toThrow(/dst port/);
    // A zone ID is local to the host that wrote it; it is dropped, not refused.
    expect(
      parseProxyV2(encodeProxyV2({ address: 'fe80::1%eth0', port: 1 }, { address: 'fe80::2', port: 2 })),
    ).toMatchObject({ src: { address: 'fe80:0:0:0:0:0:0:1' } });
  });
});
