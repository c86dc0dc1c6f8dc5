import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAppText } from '../app/app-file.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { NODE_PROCESS_ENV, NODE_PROCESS_FLAGS } from '../node/runtime/node-process.js';
import type { InstalledRelease } from './layout.js';
import { renderSystemdUnit } from './systemd-unit.js';
import { orchestratorUnit, processorUnit, vmUnits } from './units.js';

const host = (name: string): InventoryHost => ({
  name,
  groups: [],
  connection: 'ssh',
  address: '10.0.0.5',
  port: 22,
  sshArgs: [],
  root: '/opt/trellis',
  advertise: '10.0.0.5',
  processors: ['p1'],
  vars: {},
});
const release: InstalledRelease = {
  id: 'r1',
  node: '/usr/bin/node',
  bin: '/opt/trellis/releases/r1/bin/trellis.js',
  wrapper: '/opt/trellis/bin/trellis',
};
const app = parseAppText(
  `apiVersion: trellis/v1
kind: App
domain: shop
services:
  web:
    command: [/usr/bin/node, server.js]
    serve: { catalog: 8080 }
`,
  'app.yaml',
).spec;

describe('host units: how node is started', () => {
  it('processors and agents run node with the memory settings; the orchestrator and services do not', () => {
    const { agent, workload } = vmUnits(host('vm-1'), release, app, 'web', app.services.web!);
    for (const [u, command] of [
      [processorUnit(host('p1'), release), 'processor'],
      [agent, 'agent'],
    ] as const) {
      expect(u.exec.slice(0, NODE_PROCESS_FLAGS.length + 3)).toEqual([
        '/usr/bin/node',
        ...NODE_PROCESS_FLAGS,
        release.bin,
        command,
      ]);
      expect(u.env).toMatchObject(NODE_PROCESS_ENV);
      // What systemd is given: the flag on the command line, each variable on its own line.
      const text = renderSystemdUnit('/opt/trellis', u, 'h', '/opt/trellis/log/x.log');
      expect(text).toContain(
        `ExecStart="/usr/bin/node" "--max-semi-space-size=8" "${release.bin}" "${command}"`,
      );
      expect(text).toContain('Environment="MALLOC_MMAP_THRESHOLD_=131072"');
      expect(text).toContain('Environment="MALLOC_ARENA_MAX=2"');
    }
    const orchestrator = orchestratorUnit(host('orc'), release);
    expect(orchestrator.exec.slice(0, 3)).toEqual(['/usr/bin/node', release.bin, 'orchestrator']);
    // The user's own program gets its own allocator settings, not ours.
    for (const u of [orchestrator, workload!])
      expect(Object.keys(u.env).filter((k) => k.startsWith('MALLOC_'))).toEqual([]);
  });

  it('node accepts the flags and they take effect: the young generation stays within 2 × 8 MB', () => {
    // A misspelt V8 flag would make every processor exit at start ("bad option"). Objects that
    // survive their first scavenge (a ring of 200,000) make V8 grow the semi-spaces: with node's
    // defaults the young generation reaches 32 MB here.
    const youngMb = (flags: readonly string[]) =>
      Number(
        execFileSync(
          process.execPath,
          [
            ...flags,
            '-e',
            `const v8 = require('node:v8'); const ring = new Array(200000); let max = 0;
             for (let i = 0; i < 4e6; i++) {
               ring[i % ring.length] = { i, s: 'x' + (i & 1023) };
               if ((i & 0xffff) === 0)
                 max = Math.max(max, v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size);
             }
             process.stdout.write(String(max / 2 ** 20));`,
          ],
          { env: { ...process.env, ...NODE_PROCESS_ENV }, encoding: 'utf8' },
        ),
      );
    expect(youngMb([])).toBeGreaterThan(16);
    const tuned = youngMb(NODE_PROCESS_FLAGS);
    expect(tuned).toBeGreaterThan(0);
    expect(tuned).toBeLessThanOrEqual(16);
  });
});
