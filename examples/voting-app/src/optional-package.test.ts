import { describe, expect, it } from 'vitest';
import { importOptional } from './optional-package.js';

describe('importOptional: a Voting App store whose optional package is missing', () => {
  it('names the package to install instead of crashing with a bare module-not-found', async () => {
    await expect(
      importOptional(
        () => import('trellis-no-such-package' as string),
        'trellis-no-such-package',
        'the test store',
      ),
    ).rejects.toThrow(
      /the test store needs the optional package "trellis-no-such-package".*npm install trellis-no-such-package/,
    );
  });

  it('returns the module when it is installed', async () => {
    const m = await importOptional(() => import('ioredis'), 'ioredis', 'the Redis ballot queue');
    expect(typeof m.Redis).toBe('function');
  });

  it('passes any other error through unchanged', async () => {
    const boom = new Error('syntax error inside the package');
    await expect(importOptional(() => Promise.reject(boom), 'ioredis', 'x')).rejects.toBe(boom);
  });
});
