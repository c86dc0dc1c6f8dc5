import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromAws } from './from-aws.js';

const FIXTURE = JSON.parse(
  readFileSync(new URL('../../test/fixtures/inventory/aws.json', import.meta.url), 'utf8'),
);

describe('fromAws (aws ec2 describe-instances --output json)', () => {
  it('keeps running instances, names them from the Name tag (else the id), public addresses, roles from trellis-role', () => {
    const { hosts, warnings } = fromAws(FIXTURE, { private: false });
    expect(hosts.map((h) => [h.name, h.address, h.group])).toEqual([
      ['aws-orch', '203.0.113.10', 'orchestrator'],
      ['aws-p1', '203.0.113.21', 'processors'],
      ['aws-p2', '203.0.113.22', 'processors'],
      ['aws-11', '203.0.113.111', 'vms'],
      ['i-0b2d4f6a8c0e10113', '203.0.113.113', 'vms'],
    ]);
    expect(hosts.find((h) => h.name === 'aws-11')!.processors).toEqual(['aws-p1', 'aws-p2']);
    // aws-12 runs without a public IP: left out, and said so; stopped aws-13 and pending aws-14 silently.
    expect(warnings).toEqual([
      'skipped i-0b2d4f6a8c0e10112 (aws-12): no PublicIpAddress (use --private from inside its VPC)',
    ]);
  });

  it('--private uses PrivateIpAddress, which every running instance has', () => {
    const { hosts, warnings } = fromAws(FIXTURE, { private: true });
    expect(hosts.map((h) => [h.name, h.address])).toContainEqual(['aws-12', '10.20.2.112']);
    expect(hosts.find((h) => h.name === 'aws-12')!.processors).toEqual(['aws-p2', 'aws-p1']);
    expect(hosts).toHaveLength(6);
    expect(warnings).toEqual([]);
  });

  it('trellis-name overrides the Name tag; a misspelt trellis-role is refused naming the instance', () => {
    const one = (tags: { Key: string; Value: string }[]) => ({
      Reservations: [
        {
          Instances: [
            { InstanceId: 'i-1', State: { Name: 'running' }, PublicIpAddress: '192.0.2.1', Tags: tags },
          ],
        },
      ],
    });
    expect(
      fromAws(
        one([
          { Key: 'Name', Value: 'Web 1' },
          { Key: 'trellis-name', Value: 'web-1' },
        ]),
        { private: false },
      ).hosts[0]!.name,
    ).toBe('web-1');
    expect(() =>
      fromAws(
        one([
          { Key: 'Name', Value: 'p' },
          { Key: 'trellis-role', Value: 'processr' },
        ]),
        { private: false },
      ),
    ).toThrow('i-1 (p): tag trellis-role is "processr"; expected orchestrator, processor or vm');
  });

  it('names the missing field of a wrong shape, and the --from it expected', () => {
    expect(() =>
      fromAws(
        { Reservations: [{ Instances: [{ InstanceId: 'i-1', State: {} }] }] },
        { private: false },
        'x.json',
      ),
    ).toThrow(
      'x.json: not the JSON of `aws ec2 describe-instances --output json` (--from aws): Reservations[0].Instances[0].State.Name is missing',
    );
    expect(() => fromAws([], { private: false }, 'stdin')).toThrow(
      'the top level is a list, expected a mapping',
    );
  });
});
