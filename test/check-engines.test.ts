import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/cli.js';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'scripts', 'check-engines.mjs');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('scripts/check-engines.mjs', () => {
  it("passes on this checkout: every installed package supports package.json's engines.node", async () => {
    const r = await run(process.execPath, [SCRIPT, REPO_ROOT]);
    expect(r.stdout).toMatch(/all \d+ installed packages agree/);
  });

  it('fails naming the package whose engines exclude part of the declared range (cookie@2 on Node 20)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-engines-'));
    dirs.push(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'x', engines: { node: '>=20.11' } }));
    await mkdir(join(dir, 'node_modules', 'light-my-request', 'node_modules', 'cookie'), { recursive: true });
    await symlink(join(REPO_ROOT, 'node_modules', 'semver'), join(dir, 'node_modules', 'semver'));
    await writeFile(
      join(dir, 'node_modules', 'light-my-request', 'package.json'),
      JSON.stringify({ name: 'light-my-request', version: '6.8.1' }),
    );
    await writeFile(
      join(dir, 'node_modules', 'light-my-request', 'node_modules', 'cookie', 'package.json'),
      JSON.stringify({ name: 'cookie', version: '2.0.2', engines: { node: '>=22' } }),
    );
    const r = await run(process.execPath, [SCRIPT, dir]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'cookie@2.0.2 needs node >=22 (node_modules/light-my-request/node_modules/cookie)',
    );
  });
});
