import { spawnSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { TrellisError } from '../errors.js';
import { withPidLock } from './pid-lock.js';

const busy = (pid: number) => new TrellisError('TRELLIS_ERR_CONFLICT', `held by ${pid}`);

/** A pid that surely names no process: one that just exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('pid lock', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** Runs `n` jobs at once on one lock; each notes how many jobs were inside with it. */
  async function contend(file: string, n: number): Promise<number[]> {
    let inside = 0;
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: n }, () =>
        withPidLock(
          file,
          async () => {
            inside++;
            seen.push(inside);
            await sleep(20);
            inside--;
          },
          { waitMs: 30_000, busy },
        ),
      ),
    );
    return seen;
  }

  // Regression (the CI flake of test/host-units "two applies at once"): the lock file was
  // created empty and its pid written after; a contender that read it in between saw no pid,
  // took it for stale and removed it, and both ran. Two contenders that found the same dead
  // holder both removed "its" file, the second removing the first's fresh lock.
  it('lets one job in at a time, also when several take over a lock left by a dead process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-pid-lock-'));
    dirs.push(dir);
    const file = join(dir, 'host.lock');
    expect(await contend(file, 8)).toEqual(Array(8).fill(1));
    const dead = deadPid();
    for (let round = 0; round < 5; round++) {
      await writeFile(file, `${dead}\n`);
      expect(await contend(file, 12)).toEqual(Array(12).fill(1));
    }
    // Released, and nothing left beside it.
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the live holder when the wait runs out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-pid-lock-'));
    dirs.push(dir);
    const file = join(dir, 'host.lock');
    await writeFile(file, `${process.pid}\n`);
    await expect(withPidLock(file, async () => 1, { waitMs: 300, busy })).rejects.toThrow(
      `held by ${process.pid}`,
    );
  });

  it('refuses a lock path it cannot read instead of spinning on it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-pid-lock-'));
    dirs.push(dir);
    const file = join(dir, 'host.lock');
    await mkdir(file);
    const t0 = Date.now();
    await expect(withPidLock(file, async () => 1, { waitMs: 10_000, busy })).rejects.toThrow(/EISDIR/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('gives up by its deadline while another contender holds the takeover, and takes over once that contender is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-pid-lock-'));
    dirs.push(dir);
    const file = join(dir, 'host.lock');
    const dead = deadPid();
    await writeFile(file, `${dead}\n`);
    // A live contender (this process) in the middle of a takeover: wait, bounded.
    await writeFile(`${file}.takeover`, `${process.pid}\n`);
    await expect(withPidLock(file, async () => 1, { waitMs: 500, busy })).rejects.toThrow(`held by ${dead}`);
    // That contender died there: its takeover lock is stale once it is older than 2 s.
    await rm(`${file}.takeover`);
    await writeFile(join(dir, 'taker'), `${dead}\n`);
    await link(join(dir, 'taker'), `${file}.takeover`);
    await rm(join(dir, 'taker'));
    await sleep(2_100);
    await expect(withPidLock(file, async () => 'ran', { waitMs: 5_000, busy })).resolves.toBe('ran');
    expect(await readdir(dir)).toEqual([]);
  });
});
