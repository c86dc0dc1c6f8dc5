import { describe, expect, it } from 'vitest';
import { advertisedEndpoint, endpointOf, isWildcard, parseAdvertise } from './addresses.js';

describe('listen vs advertise', () => {
  it('reads HOST or HOST:PORT, IPv6 bracketed or bare, defaulting the port', () => {
    expect(parseAdvertise('203.0.113.7', 7500)).toEqual({ host: '203.0.113.7', port: 7500 });
    expect(parseAdvertise('203.0.113.7:17500', 7500)).toEqual({ host: '203.0.113.7', port: 17500 });
    expect(parseAdvertise('[2001:db8::1]:7501', 7500)).toEqual({ host: '2001:db8::1', port: 7501 });
    expect(parseAdvertise('2001:db8::1', 7500)).toEqual({ host: '2001:db8::1', port: 7500 });
    expect(parseAdvertise('p1.example.net', 7500)).toEqual({ host: 'p1.example.net', port: 7500 });
    expect(() => parseAdvertise('a:b:c', 7500)).toThrow(/--advertise "a:b:c" is not HOST or HOST:PORT/);
    expect(() => parseAdvertise('10.0.0.1:70000', 7500)).toThrow(/--advertise/);
  });

  it('knows the wildcard addresses', () => {
    for (const w of ['0.0.0.0', '::', '[::]', '']) expect(isWildcard(w)).toBe(true);
    for (const a of ['127.0.0.1', '10.0.0.5', '::1']) expect(isWildcard(a)).toBe(false);
  });

  it('advertises the listen address by default, the --advertise one when given', () => {
    const listen = { host: '10.0.0.5', port: 7500 };
    expect(advertisedEndpoint({ component: 'processor', listen })).toEqual(listen);
    const advertise = { host: '203.0.113.7', port: 7500 };
    expect(
      advertisedEndpoint({ component: 'processor', listen: { host: '0.0.0.0', port: 7500 }, advertise }),
    ).toEqual(advertise);
  });

  it('refuses a wildcard listen without --advertise, naming both flags', () => {
    const run = () => advertisedEndpoint({ component: 'processor', listen: { host: '0.0.0.0', port: 7500 } });
    expect(run).toThrow(/processor --listen 0\.0\.0\.0:7500 is a wildcard address: it needs --advertise/);
    expect(() =>
      advertisedEndpoint({
        component: 'processor',
        listen: { host: '::', port: 7500 },
        advertise: { host: '0.0.0.0', port: 7500 },
      }),
    ).toThrow(/--advertise "0.0.0.0" is a wildcard/);
  });

  it("an agent's default is --address, so a wildcard there is what is refused", () => {
    const listen = { host: '0.0.0.0', port: 7443 };
    expect(
      advertisedEndpoint({
        component: 'agent',
        listen,
        fallback: { host: '10.0.0.9', port: 7443 },
        fallbackFlag: '--address',
      }),
    ).toEqual({ host: '10.0.0.9', port: 7443 });
    expect(() =>
      advertisedEndpoint({
        component: 'agent',
        listen,
        fallback: { host: '::', port: 7443 },
        fallbackFlag: '--address',
      }),
    ).toThrow(/agent --address \[::\]:7443 is a wildcard address: it needs --advertise/);
  });

  it('brackets IPv6 endpoints', () => {
    expect(endpointOf({ host: '2001:db8::1', port: 7500 })).toBe('[2001:db8::1]:7500');
  });
});
