import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DENY_CODE_LIST,
  DENY_CODES,
  type DenyCode,
  denyCodeOf,
  denyLabel,
  MAX_DENY_CODE,
  parseDenyCode,
} from './deny-codes.js';

/** Every .ts file of src/ but tests and the catalogue itself: where refusals are made. */
function sources(dir = new URL('.', import.meta.url).pathname): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'deny-codes.ts' ? [p] : [];
  });
}

describe('the refusal code catalogue', () => {
  it.each(DENY_CODE_LIST)('%s has a kind and a one-line meaning', (code) => {
    const e = DENY_CODES[code];
    expect(code).toMatch(/^TRELLIS_DENY_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    expect(code.length).toBeLessThanOrEqual(MAX_DENY_CODE);
    expect(['policy', 'unavailable', 'unknown']).toContain(e.kind);
    expect(e.meaning.length).toBeGreaterThan(10);
    expect(e.meaning).not.toMatch(/[\r\n]/);
  });

  it('has no duplicate: codes, metric labels and meanings are each unique', () => {
    const labels = DENY_CODE_LIST.map(denyLabel);
    expect(new Set(DENY_CODE_LIST).size).toBe(DENY_CODE_LIST.length);
    expect(new Set(labels).size).toBe(labels.length);
    expect(new Set(DENY_CODE_LIST.map((c) => DENY_CODES[c].meaning)).size).toBe(DENY_CODE_LIST.length);
    for (const l of labels) expect(l).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('keeps the metric labels the denial counters had before codes (dashboards and alerts)', () => {
    const before = [
      'no-ticket',
      'malformed-ticket',
      'bad-signature',
      'expired',
      'future-ticket',
      'wrong-hop',
      'stale-epoch',
      'wrong-peer',
      'wrong-destination',
      'not-in-role',
      'not-served',
      'no-path',
      'no-server',
      'next-hop-unreachable',
      'server-unreachable',
      'not-connect',
    ];
    expect(DENY_CODE_LIST.map(denyLabel)).toEqual(expect.arrayContaining(before));
    expect(denyLabel('TRELLIS_DENY_NEXT_HOP_UNREACHABLE')).toBe('next-hop-unreachable');
  });

  it('has every code made by some refuse site (or by parseDenyCode): no dead entry', () => {
    const text = sources()
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = DENY_CODE_LIST.filter((c) => DENY_CODES[c].kind !== 'unknown' && !text.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });
});

describe('parseDenyCode (a peer’s value)', () => {
  it.each([
    ['TRELLIS_DENY_WRONG_HOP', 'TRELLIS_DENY_WRONG_HOP'],
    [undefined, 'TRELLIS_DENY_NO_CODE'],
    [null, 'TRELLIS_DENY_NO_CODE'],
    ['', 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['TRELLIS_DENY_FROM_THE_FUTURE', 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['trellis_deny_wrong_hop', 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['wrong-hop', 'TRELLIS_DENY_UNKNOWN_CODE'],
    [' TRELLIS_DENY_WRONG_HOP', 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['TRELLIS_DENY_WRONG_HOP, TRELLIS_DENY_EXPIRED', 'TRELLIS_DENY_UNKNOWN_CODE'],
    [['TRELLIS_DENY_WRONG_HOP', 'TRELLIS_DENY_EXPIRED'], 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['constructor', 'TRELLIS_DENY_UNKNOWN_CODE'],
    ['__proto__', 'TRELLIS_DENY_UNKNOWN_CODE'],
    [`TRELLIS_DENY_${'X'.repeat(5000)}`, 'TRELLIS_DENY_UNKNOWN_CODE'],
    [42, 'TRELLIS_DENY_UNKNOWN_CODE'],
  ])('%j → %s', (raw, want) => {
    expect(parseDenyCode(raw)).toBe(want as DenyCode);
  });

  it('returns only catalogue codes, whatever it is given', () => {
    for (const raw of ['x', 'TRELLIS_DENY_', '}\n', 'toString', 'hasOwnProperty'])
      expect(DENY_CODE_LIST).toContain(parseDenyCode(raw));
  });
});

describe('denyCodeOf (the denials filter)', () => {
  it('takes a code or its label, nothing else', () => {
    expect(denyCodeOf('TRELLIS_DENY_NO_SERVER')).toBe('TRELLIS_DENY_NO_SERVER');
    expect(denyCodeOf('no-server')).toBe('TRELLIS_DENY_NO_SERVER');
    expect(denyCodeOf('other')).toBeUndefined();
    expect(denyCodeOf('constructor')).toBeUndefined();
  });
});
