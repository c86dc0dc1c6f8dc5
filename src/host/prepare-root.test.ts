import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareRoot } from './apply.js';
import { hostLayout } from './layout.js';

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('prepareRoot', () => {
  const saved = process.umask();
  afterEach(() => {
    process.umask(saved);
  });

  // Regression: under umask 077 (a hardened host, or the lab) the root came out 0700, and
  // voting-db's redis-server, running as the redis user, could not reach its {datadir}.
  it('leaves the root 0755 and data/ 0711 under umask 077, so a store running as its own user traverses them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-root-'));
    try {
      process.umask(0o077);
      const layout = hostLayout(join(dir, 'opt', 'trellis'));
      await prepareRoot(layout);
      expect(await mode(layout.root)).toBe(0o755);
      expect(await mode(join(layout.root, 'data'))).toBe(0o711);
      // What holds secrets stays private.
      expect(await mode(layout.secrets)).toBe(0o700);
      expect(await mode(join(layout.root, 'state'))).toBe(0o700);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
