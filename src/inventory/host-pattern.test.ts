import { describe, expect, it } from 'vitest';
import { expandHostPattern } from './host-pattern.js';

const names = (key: string) => {
  const r = expandHostPattern(key);
  return 'error' in r ? r.error : r.hosts.map((h) => (h.port === undefined ? h.name : `${h.name}@${h.port}`));
};

describe('expandHostPattern (Ansible host ranges)', () => {
  it('leaves plain names, IPs and IPv6 addresses whole', () => {
    expect(names('aws-11')).toEqual(['aws-11']);
    expect(names('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(names('fe80::1')).toEqual(['fe80::1']);
  });
  it('expands numeric ranges, zero-padded, with a step, and several ranges', () => {
    expect(names('web[1:3]')).toEqual(['web1', 'web2', 'web3']);
    expect(names('web[08:10].example')).toEqual(['web08.example', 'web09.example', 'web10.example']);
    expect(names('n[0:6:3]')).toEqual(['n0', 'n3', 'n6']);
    expect(names('[a:b]-[1:2]')).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
  });
  it('reads a :port suffix, also after a range', () => {
    expect(names('db:2222')).toEqual(['db@2222']);
    expect(names('db[1:2]:2200')).toEqual(['db1@2200', 'db2@2200']);
  });
  it('refuses malformed ranges and ports', () => {
    expect(names('db:70000')).toMatch(/port 70000 .* not from 1 to 65535/);
    expect(names('w[01:100]')).toMatch(/same length/);
    expect(names('w[1:x]')).toMatch(/numbers \(01:10\) or single letters/);
    expect(names('w[1:5:0]')).toMatch(/step "0"/);
    expect(names('w[0:99999]')).toMatch(/more than 10000 hosts/);
  });
});
