import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromAzure } from './from-azure.js';

const FIXTURE = JSON.parse(
  readFileSync(new URL('../../test/fixtures/inventory/azure.json', import.meta.url), 'utf8'),
);

describe('fromAzure (az vm list -d -o json)', () => {
  it('keeps "VM running" VMs, the first of comma-separated publicIps, roles and processors from tags', () => {
    const { hosts, warnings } = fromAzure(FIXTURE, { private: false });
    expect(hosts).toEqual([
      { name: 'azr-p1', label: 'azr-p1', address: '192.0.2.41', group: 'processors', processors: [] },
      {
        name: 'azr-21',
        label: 'azr-21',
        address: '192.0.2.121',
        group: 'vms',
        processors: ['azr-p1', 'aws-p1'],
      },
    ]);
    expect(warnings).toEqual([
      'skipped azr-22: no publicIps (use --private from inside its virtual network)',
    ]);
  });

  it('--private uses privateIps; deallocated and stopped VMs stay out', () => {
    expect(fromAzure(FIXTURE, { private: true }).hosts.map((h) => [h.name, h.address])).toEqual([
      ['azr-p1', '10.40.0.41'],
      ['azr-21', '10.40.0.121'],
      ['azr-22', '10.40.0.122'],
    ]);
  });

  it('warns that `az vm list` without -d has no power state', () => {
    const { hosts, warnings } = fromAzure([{ name: 'azr-9', tags: null }], { private: false });
    expect(hosts).toEqual([]);
    expect(warnings).toEqual([
      'azr-9: no powerState: this looks like `az vm list` without -d; it is skipped',
    ]);
  });
});
