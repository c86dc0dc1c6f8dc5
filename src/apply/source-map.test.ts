import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import type { FabricSpec } from './fabric-file.js';
import { formatFieldPath, lineFinder, parseFieldPath, specPathOf } from './source-map.js';

describe('field paths', () => {
  it('parse and format are inverses', () => {
    const field = 'domains[0].contracts[1].client.pathParams.transit[0]';
    expect(parseFieldPath(field)).toEqual([
      'domains',
      0,
      'contracts',
      1,
      'client',
      'pathParams',
      'transit',
      0,
    ]);
    expect(formatFieldPath(parseFieldPath(field))).toBe(field);
    expect(parseFieldPath('')).toEqual([]);
    expect(formatFieldPath([])).toBe('');
  });
});

describe('lineFinder', () => {
  const text = `a: 1
list:
  - x: 1
    nested:
      deep: [p, q]
  - &ref
    y: 2
  - *ref
`;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const lineOf = lineFinder(doc, lines);

  it('answers the line of a key, not of its block value', () => {
    expect(lineOf(['a'])).toBe(1);
    expect(lineOf(['list'])).toBe(2);
    expect(lineOf(['list', 0, 'nested'])).toBe(4);
    expect(lineOf(['list', 0, 'nested', 'deep', 1])).toBe(5);
  });

  it('falls back to the deepest part that exists', () => {
    expect(lineOf(['list', 0, 'missing', 'more'])).toBe(3);
    expect(lineOf(['list', 7])).toBe(2);
    expect(lineOf([])).toBe(1);
  });

  it('follows aliases', () => {
    expect(doc.errors).toEqual([]);
    // An alias has no lines of its own: the answer is where its anchor's content is.
    expect(lineOf(['list', 2, 'y'])).toBe(7);
  });
});

describe('specPathOf', () => {
  const spec: FabricSpec = {
    apiVersion: 'trellis/v1',
    kind: 'Fabric',
    processors: [{ name: 'p1', zone: 'aws', description: '' }],
    links: [{ between: ['p2', 'p1'], cost: 10, status: 'up' }],
    domains: [
      {
        name: 'app',
        description: '',
        hostOwners: ['a'],
        switchOwners: ['ops'],
        contracts: [
          {
            name: 'c1',
            description: '',
            proxyProtocol: false,
            mode: 'enforce',
            client: { users: [], pathParams: {} },
            server: { users: [], pathParams: {} },
          },
        ],
      },
    ],
  };

  it('points a planned change at the part of the file it comes from', () => {
    const at = (kind: 'domain' | 'resourceUser' | 'processor' | 'link' | 'contract' | 'role', name: string) =>
      specPathOf(spec, { action: 'update', kind, name, domain: kind === 'domain' ? undefined : 'app' });
    expect(at('processor', 'p1')).toEqual(['processors', 0]);
    expect(at('link', 'p1--p2')).toEqual(['links', 0]);
    expect(at('domain', 'app')).toEqual(['domains', 0]);
    expect(at('resourceUser', 'ops')).toEqual(['domains', 0, 'switchOwners', 0]);
    expect(at('contract', 'c1')).toEqual(['domains', 0, 'contracts', 0]);
    expect(at('role', 'c1/server')).toEqual(['domains', 0, 'contracts', 0, 'server']);
    expect(specPathOf(spec, { action: 'delete', kind: 'processor', name: 'p9' })).toBeUndefined();
  });
});
