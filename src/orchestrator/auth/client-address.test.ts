import { describe, expect, it } from 'vitest';
import { clientAddressKey } from './client-address.js';

describe('client address key', () => {
  it('counts IPv4 as itself, IPv4-mapped IPv6 as IPv4, and IPv6 per /64', () => {
    expect(clientAddressKey('127.0.61.9')).toBe('127.0.61.9');
    expect(clientAddressKey('::ffff:127.0.61.9')).toBe('127.0.61.9');
    expect(clientAddressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:0DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('64:ff9b::10.0.0.1')).toBe('64:ff9b:0:0::/64');
  });
});
