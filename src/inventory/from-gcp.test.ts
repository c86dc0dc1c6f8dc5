import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromGcp } from './from-gcp.js';

const FIXTURE = JSON.parse(
  readFileSync(new URL('../../test/fixtures/inventory/gcp.json', import.meta.url), 'utf8'),
);

describe('fromGcp (gcloud compute instances list --format=json)', () => {
  it('keeps RUNNING instances with a natIP; roles from the trellis-role label, processors from metadata', () => {
    const { hosts, warnings } = fromGcp(FIXTURE, { private: false });
    expect(hosts).toEqual([
      { name: 'gcp-p1', label: 'gcp-p1', address: '198.51.100.31', group: 'processors', processors: [] },
      {
        name: 'gcp-11',
        label: 'gcp-11',
        address: '198.51.100.111',
        group: 'vms',
        processors: ['gcp-p1', 'aws-p2'],
      },
    ]);
    expect(warnings).toEqual([
      'skipped gcp-12: no natIP (external address) (use --private from inside its VPC)',
    ]);
  });

  it('--private uses networkIP; TERMINATED instances stay out', () => {
    const { hosts } = fromGcp(FIXTURE, { private: true });
    expect(hosts.map((h) => [h.name, h.address])).toEqual([
      ['gcp-p1', '10.132.0.31'],
      ['gcp-11', '10.132.0.111'],
      ['gcp-12', '10.132.0.112'],
    ]);
  });

  it('refuses the wrong shape naming the field', () => {
    expect(() => fromGcp([{ name: 'a' }], { private: false }, 'in')).toThrow(
      'in: not the JSON of `gcloud compute instances list --format=json` (--from gcp): [0].status is missing',
    );
    expect(() => fromGcp({ Reservations: [] }, { private: false }, 'in')).toThrow(
      'the top level is a mapping, expected a list',
    );
  });
});
