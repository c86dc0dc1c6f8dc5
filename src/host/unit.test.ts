import { describe, expect, it } from 'vitest';
import { renderSystemdUnit, systemdName, systemdWord } from './systemd-unit.js';
import { startOrder, type Unit, unitHash } from './unit.js';

const unit = (name: string, after: string[] = [], extra: Partial<Unit> = {}): Unit => ({
  name,
  kind: 'workload',
  description: `the ${name}`,
  exec: ['/usr/bin/node', '/opt/trellis/releases/r1/bin/trellis.js', 'agent'],
  env: { PORT: '8000' },
  envFiles: [],
  cwd: '/opt/trellis/data/x',
  after,
  ready: { tcp: [] },
  labels: {},
  ...extra,
});

describe('units', () => {
  it('start after the units they name; a cycle is an error naming it', () => {
    expect(startOrder([unit('workload-a', ['agent-a']), unit('agent-a')]).map((u) => u.name)).toEqual([
      'agent-a',
      'workload-a',
    ]);
    expect(() => startOrder([unit('a', ['b']), unit('b', ['a'])])).toThrow(/a → b → a form a cycle/);
  });

  it('the same description hashes the same; any change (a new release) changes the hash', () => {
    expect(unitHash(unit('a'))).toBe(unitHash(unit('a')));
    expect(unitHash(unit('a'))).not.toBe(
      unitHash(
        unit('a', [], { exec: ['/usr/bin/node', '/opt/trellis/releases/r2/bin/trellis.js', 'agent'] }),
      ),
    );
  });
});

describe('systemd units', () => {
  it('quote every ExecStart word the way systemd reads it', () => {
    expect(systemdWord('plain')).toBe('"plain"');
    expect(systemdWord('a "b" \\ 100% $HOME')).toBe('"a \\"b\\" \\\\ 100%% $$HOME"');
  });

  it('name units per root: trellis-NAME for /opt/trellis, a root hash otherwise', () => {
    expect(systemdName('/opt/trellis', 'agent-aws-11')).toBe('trellis-agent-aws-11');
    expect(systemdName('/srv/t', 'agent-aws-11')).toMatch(/^trellis-agent-aws-11-[0-9a-f]{6}$/);
  });

  it('restart always, read the agent env file if present, append to the unit log, order after the agent', () => {
    const text = renderSystemdUnit(
      '/opt/trellis',
      unit('workload-aws-11', ['agent-aws-11'], { envFiles: ['/opt/trellis/run/agent-aws-11.env'] }),
      'h1',
      '/opt/trellis/log/workload-aws-11.log',
    );
    expect(text).toContain('Restart=always');
    expect(text).toContain('EnvironmentFile=-/opt/trellis/run/agent-aws-11.env');
    expect(text).toContain('After=network-online.target trellis-agent-aws-11.service');
    expect(text).toContain('Requires=trellis-agent-aws-11.service');
    expect(text).toContain('StandardOutput=append:/opt/trellis/log/workload-aws-11.log');
    expect(text).toContain('Environment="PORT=8000"');
    expect(text).toContain('Environment="TRELLIS_HOST_ROOT=/opt/trellis"');
    expect(text).toContain('ExecStart="/usr/bin/node" "/opt/trellis/releases/r1/bin/trellis.js" "agent"');
    expect(text).toContain('trellis-hash: h1');
  });
});
