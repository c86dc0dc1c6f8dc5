import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificateAddresses, checkFirstHopSource, parseSource, sourceFor } from './source.js';

describe('trellis-source parsing', () => {
  it('reads IPv4 and IPv6 sources into one canonical spelling', () => {
    expect(parseSource('127.0.4.11:40000')).toEqual({
      ok: true,
      host: '127.0.4.11',
      port: 40000,
      value: '127.0.4.11:40000',
    });
    expect(parseSource('[FD32::1]:443')).toMatchObject({ ok: true, host: 'fd32::1', value: '[fd32::1]:443' });
    // A dual-stack listener sees IPv4 clients as mapped addresses: the same client.
    expect(parseSource('[::ffff:10.0.0.7]:5000')).toMatchObject({ ok: true, value: '10.0.0.7:5000' });
  });

  it('refuses every malformed value with a reason, never by throwing', () => {
    for (const bad of [
      'x',
      '',
      ':',
      '6.6.6.6',
      '6.6.6.6:',
      '6.6.6.6:0',
      '6.6.6.6:65536',
      '6.6.6.6:-1',
      '999.1.1.1:80',
      'fd32::1:80',
      '[6.6.6.6]:80',
      '[fd32::zz]:80',
      'example.com:80',
      '6.6.6.6:80, 7.7.7.7:80',
      ` 6.6.6.6:80`,
      '1'.repeat(10_000),
      '\u0000:1',
    ]) {
      const v = parseSource(bad);
      expect(v.ok, JSON.stringify(bad)).toBe(false);
      expect((v as { reason: string }).reason).toMatch(/trellis-source/);
    }
    expect(parseSource(undefined)).toEqual({ ok: false, reason: 'no trellis-source header' });
    expect(parseSource(['1.2.3.4:5', '6.6.6.6:666'])).toMatchObject({ ok: false });
    // A huge value is not echoed back in full.
    expect((parseSource('1'.repeat(10_000)) as { reason: string }).reason.length).toBeLessThan(100);
  });
});

describe('the first hop checks the source against the client certificate', () => {
  const cert = {
    subjectaltname:
      'URI:trellis://hello/workload/aws-11, IP Address:127.0.4.11, IP Address:FD32:0:0:0:0:0:0:B',
  } as PeerCertificate;

  it("reads the certificate's IP SANs, IPv6 in the compressed spelling", () => {
    expect(certificateAddresses(cert)).toEqual(['127.0.4.11', 'fd32::b']);
    expect(certificateAddresses({} as PeerCertificate)).toEqual([]);
  });

  it("accepts one of the node's addresses and refuses a forged one, naming both", () => {
    const addrs = certificateAddresses(cert);
    expect(checkFirstHopSource('127.0.4.11:40000', 'aws-11', addrs)).toMatchObject({ ok: true });
    expect(checkFirstHopSource('[fd32::b]:40000', 'aws-11', addrs)).toMatchObject({ ok: true });
    expect(checkFirstHopSource('6.6.6.6:666', 'aws-11', addrs)).toEqual({
      ok: false,
      reason:
        'refused: trellis-source 6.6.6.6:666 is not an address of aws-11 (its certificate names 127.0.4.11, fd32::b)',
    });
    expect(checkFirstHopSource('x', 'aws-11', addrs)).toEqual({
      ok: false,
      reason: 'refused: trellis-source "x" is not IP:PORT (or [IPv6]:PORT) (from workload aws-11)',
    });
  });
});

describe('the client agent names its workload by a registered address', () => {
  it('keeps a registered source and maps a loopback one to the VM address', () => {
    expect(sourceFor('127.0.4.11', 40000, ['127.0.4.11'])).toBe('127.0.4.11:40000');
    expect(sourceFor('::ffff:127.0.4.11', 40000, ['127.0.4.11'])).toBe('127.0.4.11:40000');
    // A real host's client listener is on 127.0.0.1: the server is told the VM's address.
    expect(sourceFor('127.0.0.1', 51000, ['10.0.1.11'])).toBe('10.0.1.11:51000');
    expect(sourceFor('127.0.0.1', 51000, ['vm.example.com', 'fd32::b'])).toBe('[fd32::b]:51000');
  });
});
