import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inventoryOf } from './cloud.js';
import { convertCloudJson } from './convert.js';
import { parseInventory } from './inventory.js';
import { type InventorySpec, renderInventory } from './render.js';

const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
// Values a converter or a user writes: strings that PyYAML would mistake (yes, 010, 1:30, ~) included.
const tricky = fc.constantFrom(
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  '010',
  '1:30',
  '~',
  'null',
  '2024-05-01',
  '0x1f',
  '1e3',
  '',
  ' a ',
  '#x',
  '- x',
  'a: b',
);
const scalar = fc.oneof(fc.string(), tricky, fc.integer(), fc.boolean(), fc.constant(null));
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(name, scalar, { maxKeys: 3 }),
);
const userVar = fc
  .stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
  .filter((k) => !k.startsWith('ansible_') && !k.startsWith('trellis'));
const vars = fc.dictionary(userVar, value, { maxKeys: 4 });

const spec: fc.Arbitrary<InventorySpec> = fc.record({
  header: fc.array(fc.stringMatching(/^[ -~]{0,40}$/), { maxLength: 2 }),
  vars,
  groups: fc.uniqueArray(
    fc.record({
      name: name.filter((n) => n !== 'all' && n !== 'ungrouped'),
      hosts: fc.uniqueArray(fc.tuple(name, vars), { selector: ([h]) => h, maxLength: 4 }),
    }),
    { selector: (g) => g.name, maxLength: 4 },
  ),
});

describe('renderInventory', () => {
  it('round-trips through parseInventory: every host, its groups, and its variables', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const inv = parseInventory(renderInventory(s), '/x/inventory.yaml');
        const expected = new Map<string, { groups: Set<string>; vars: Record<string, unknown> }>();
        for (const g of s.groups)
          for (const [h, v] of g.hosts) {
            const e = expected.get(h) ?? { groups: new Set(), vars: {} };
            e.groups.add(g.name);
            Object.assign(e.vars, v);
            expected.set(h, e);
          }
        expect(inv.hosts.map((h) => h.name).sort()).toEqual([...expected.keys()].sort());
        for (const h of inv.hosts) {
          const e = expected.get(h.name)!;
          expect(h.groups).toEqual([...e.groups].sort());
          // all's vars, then the host's own (host vars beat group vars).
          expect(h.vars).toEqual({ ...s.vars, ...e.vars });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('quotes what PyYAML would read as something else, and writes bare host names for no vars', () => {
    const text = renderInventory({
      header: ['made by a test'],
      vars: { v: 'yes' },
      groups: [
        {
          name: 'vms',
          hosts: [
            ['a', {}],
            ['b', { k: '010' }],
          ],
        },
      ],
    });
    expect(text).toBe(
      `# made by a test\n\nall:\n  vars:\n    v: "yes"\n  children:\n    vms:\n      hosts:\n        a:\n        b:\n          k: "010"\n`,
    );
  });
});

describe('inventoryOf (cloud hosts → inventory)', () => {
  const host = (name: string, group: 'orchestrator' | 'processors' | 'vms' = 'vms') => ({
    name,
    label: `i-${name}`,
    address: '192.0.2.1',
    group,
    processors: [],
  });
  const at = new Date('2024-05-02T10:00:00Z');
  it('refuses hostnames that are not Trellis names, naming every one', () => {
    expect(() =>
      inventoryOf(
        'aws',
        { hosts: [host('Web 1'), host('ok'), host('db_1')], warnings: [] },
        { private: false, madeAt: at },
      ),
    ).toThrow('not valid inventory hostnames for Trellis: "Web 1" (i-Web 1), "db_1" (i-db_1)');
  });
  it('refuses duplicate hostnames, naming the instances', () => {
    expect(() =>
      inventoryOf(
        'aws',
        { hosts: [host('a'), { ...host('a'), label: 'i-2 (a)' }], warnings: [] },
        { private: false, madeAt: at },
      ),
    ).toThrow('duplicate hostnames: "a" (i-a, i-2 (a))');
  });
  it('refuses two orchestrators', () => {
    expect(() =>
      inventoryOf(
        'gcp',
        { hosts: [host('o1', 'orchestrator'), host('o2', 'orchestrator')], warnings: [] },
        { private: false, madeAt: at },
      ),
    ).toThrow('more than one host has trellis-role orchestrator: i-o1, i-o2');
  });
  it('an account with no running instances still gives an inventory Trellis reads', () => {
    const { yaml } = convertCloudJson('aws', '{"Reservations": []}', 'stdin', { private: false, madeAt: at });
    expect(parseInventory(yaml, 'inv.yaml').hosts).toEqual([]);
  });
});

describe('convertCloudJson: input that is not JSON', () => {
  it('names line and column', () => {
    expect(() =>
      convertCloudJson('aws', '{\n  "Reservations": [\n    x\n  ]\n}', 'stdin', { private: false }),
    ).toThrow(/^stdin:3:5: not JSON: /);
    expect(() => convertCloudJson('gcp', '[{"a": 1,}]', 'f.json', { private: false })).toThrow(
      /^f\.json:1:10: not JSON: /,
    );
    expect(() => convertCloudJson('azure', '[1, 2', 'f.json', { private: false })).toThrow(
      /^f\.json:1:6: not JSON: /,
    );
    expect(() => convertCloudJson('azure', ' \n', 'stdin', { private: false })).toThrow(
      'stdin: empty; expected the JSON of --from azure',
    );
  });
});
