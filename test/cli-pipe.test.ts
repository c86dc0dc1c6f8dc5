import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRELLIS_BIN } from './support/cli.js';

describe('regression: `trellis … | head` crashed with EPIPE', () => {
  it('a reader that stops after the first chunk ends the CLI quietly with exit 0', async () => {
    // An inventory of 5,000 instances: far more output than a pipe buffers.
    const dir = await mkdtemp(join(tmpdir(), 'trellis-pipe-'));
    const instances = Array.from({ length: 5000 }, (_, i) => ({
      InstanceId: `i-${i.toString(16).padStart(17, '0')}`,
      State: { Name: 'running' },
      PublicIpAddress: `203.0.${i >> 8}.${i & 255}`,
      Tags: [{ Key: 'Name', Value: `vm-${i}` }],
    }));
    const file = join(dir, 'aws.json');
    await writeFile(file, JSON.stringify({ Reservations: [{ Instances: instances }] }));
    try {
      const child = spawn(process.execPath, [TRELLIS_BIN, 'inventory', '--from', 'aws', '-f', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Like `head -n 1`: read one chunk, then close the read end while the CLI still writes.
      child.stdout.once('data', () => child.stdout.destroy());
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).not.toContain('EPIPE');
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
