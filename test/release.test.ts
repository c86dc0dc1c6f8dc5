import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease, currentRelease, type Release } from '../src/release/release.js';
import { VERSION } from '../src/version.js';
import { REPO_ROOT, trellis } from './support/cli.js';

/**
 * The release `trellis deploy` copies: extracted anywhere, with no registry, no NODE_PATH and
 * the checkout out of reach, its bin/trellis.js runs. Needs a built dist/ (`npm run build`).
 */

const run = promisify(execFile);
const DEV_ONLY = [
  'vitest',
  'typescript',
  '@biomejs/biome',
  'vite',
  'fast-check',
  'playwright-core',
  'cytoscape',
];

/** Node run as on a host: cwd elsewhere, no NODE_PATH, nothing from the checkout. */
function hostEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, TRELLIS_HOME: join(home, '.trellis') };
  return env;
}

async function extract(tarball: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', into]);
}

let tmp: string;
let first: Release;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'trellis-release-'));
  first = await currentRelease({ cacheDir: join(tmp, 'cache') });
}, 180_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('currentRelease', () => {
  it('is a tarball named by its id, with one top directory <id>/', async () => {
    expect(first.id).toMatch(new RegExp(`^trellis-${VERSION.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    expect(first.version).toBe(VERSION);
    expect(first.tarball).toBe(join(tmp, 'cache', `${first.id}.tar.gz`));
    expect((await stat(first.tarball)).size).toBe(first.bytes);
    const { stdout } = await run('tar', ['-tzf', first.tarball], { maxBuffer: 64 << 20 });
    const tops = new Set(
      stdout
        .trim()
        .split('\n')
        .map((p) => p.split('/')[0]),
    );
    expect([...tops]).toEqual([first.id]);
  });

  it('runs extracted elsewhere: --version and orchestrator --help, no NODE_PATH, no checkout', async () => {
    const hosts = join(tmp, 'host', 'releases');
    await extract(first.tarball, hosts);
    const elsewhere = await mkdtemp(join(tmp, 'cwd-'));
    const bin = join(hosts, first.id, 'bin', 'trellis.js');
    const opts = { cwd: elsewhere, env: hostEnv(elsewhere) };
    expect((await run(process.execPath, [bin, '--version'], opts)).stdout.trim()).toBe(VERSION);
    const help = await run(process.execPath, [bin, 'orchestrator', '--help'], opts);
    expect(help.stdout).toContain('Usage: trellis orchestrator');
    // The console is part of what the orchestrator serves.
    await expect(stat(join(hosts, first.id, 'dist', 'console', 'index.html'))).resolves.toBeTruthy();
  });

  it("holds the production dependencies, no dev dependency and none of the examples' own", async () => {
    const { stdout } = await run('tar', ['-tzf', first.tarball], { maxBuffer: 64 << 20 });
    const paths = stdout.trim().split('\n');
    const nm = `${first.id}/node_modules/`;
    for (const dep of ['fastify', 'commander', '@electric-sql/pglite', 'zod']) {
      expect(paths, dep).toContain(`${nm}${dep}/package.json`);
    }
    // The Voting App's stores travel in its own app package (test/app-package.test.ts), not here.
    for (const dep of ['ioredis', '@electric-sql/pglite-socket']) {
      expect(
        paths.filter((p) => p.includes(`node_modules/${dep}/`)),
        dep,
      ).toEqual([]);
    }
    expect(paths.filter((p) => p.startsWith(`${first.id}/examples/`))).toEqual([]);
    for (const dev of DEV_ONLY) {
      expect(
        paths.filter((p) => p.includes(`node_modules/${dev}/`)),
        dev,
      ).toEqual([]);
    }
    expect(paths.filter((p) => /node_modules\/\.(cache|bin)\//.test(p))).toEqual([]);
    // Exactly what the package ships: no tests, no sources, no sourcemaps.
    expect(
      paths.filter(
        (p) => !p.includes('/node_modules/') && /\.test\.js$|\.map$|\/src\/.*\.ts$|^[^/]+\/test\//.test(p),
      ),
    ).toEqual([]);
  });

  it('is world-readable and nobody else may write: files 0644 or 0755, owner 0:0', async () => {
    const { stdout } = await run('tar', ['--numeric-owner', '-tvzf', first.tarball], { maxBuffer: 64 << 20 });
    const modes = new Set<string>();
    for (const line of stdout.trim().split('\n')) {
      const [perm, owner] = line.split(/\s+/);
      modes.add(`${perm} ${owner}`);
    }
    expect([...modes].sort()).toEqual(['-rw-r--r-- 0/0', '-rwxr-xr-x 0/0', 'drwxr-xr-x 0/0']);
  });

  it('keeps its cache private: the cache directory is 0700', async () => {
    expect((await stat(join(tmp, 'cache'))).mode & 0o777).toBe(0o700);
  });

  it('reuses the cached tarball when nothing changed (same id, not rewritten)', async () => {
    const before = await stat(first.tarball);
    const again = await currentRelease({ cacheDir: join(tmp, 'cache') });
    expect(again).toEqual(first);
    expect((await stat(first.tarball)).mtimeMs).toBe(before.mtimeMs);
  });
});

describe('buildRelease on a copy of the package', () => {
  it('a changed dist/ file gives a new id; the same content again gives the old id back', async () => {
    const pkg = join(tmp, 'pkg');
    await mkdir(pkg);
    for (const p of ['package.json', 'README.md', 'bin', 'dist/src', 'dist/types', 'dist/console', 'docs']) {
      await cp(join(REPO_ROOT, p), join(pkg, p), { recursive: true });
    }
    // Dependencies through a symlinked node_modules, as some installs have them.
    await symlink(join(REPO_ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const cacheDir = join(tmp, 'cache-copy');
    const a = await buildRelease({ packageRoot: pkg, cacheDir });
    const file = join(pkg, 'dist', 'src', 'version.js');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}// rebuilt\n`);
    const b = await buildRelease({ packageRoot: pkg, cacheDir });
    expect(b.id).not.toBe(a.id);
    await writeFile(file, original);
    const c = await buildRelease({ packageRoot: pkg, cacheDir });
    expect(c.id).toBe(a.id);
    // Regression: a doc edit was a new release, so the next deploy restarted every unit.
    await writeFile(
      join(pkg, 'docs', 'lab.md'),
      `${await readFile(join(pkg, 'docs', 'lab.md'), 'utf8')}\nedited\n`,
    );
    await writeFile(join(pkg, 'README.md'), 'edited\n');
    const d = await buildRelease({ packageRoot: pkg, cacheDir });
    expect(d.id).toBe(a.id);
    // The copy and the checkout hold the same content: the same release.
    expect(a.id).toBe(first.id);
  }, 240_000);
});

describe('trellis release build', () => {
  it('-o json prints the id, path and size of the cached release', async () => {
    const home = join(tmp, 'home');
    const r = await trellis(['release', 'build', '-o', 'json'], {
      env: { ...process.env, TRELLIS_HOME: home },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; version: string; path: string; size: number };
    expect(out.id).toBe(first.id);
    expect(out.path).toBe(join(home, 'releases', `${first.id}.tar.gz`));
    expect(out.size).toBe((await stat(out.path)).size);
  }, 180_000);
});
