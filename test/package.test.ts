import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { REPO_ROOT } from './support/cli.js';
import { rigUnavailable, startRig } from './support/rig.js';

/**
 * `npm pack` yields an installable package: installed from the tarball alone into a fresh
 * prefix, offline (the npm cache, no registry), `trellis` runs. The tarball is packed with
 * --ignore-scripts from the dist/ that `npm run build` made (a real `npm pack` builds first).
 */

const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  run('npm', args, { cwd, maxBuffer: 64 << 20 }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );

let tmp: string;
let prefix: string;
let tarball: string;
let files: string[];
let install: { code: number; stdout: string; stderr: string };
const installed = () => join(prefix, 'node_modules', 'trellis');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'trellis-package-'));
  prefix = join(tmp, 'prefix');
  const pack = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], REPO_ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, (info as { filename: string }).filename);
  files = (info as { files: { path: string }[] }).files.map((f) => f.path);
  await mkdir(prefix);
  // From the cache where it can (a fresh CI machine's `npm ci` cached the packages but not every
  // package's metadata, which the registry fills in); the rig host below then has no network at all.
  install = await npm(
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball],
    tmp,
  );
}, 240_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships bin/, the compiled dist/, the console, the workload types and README; no examples, tests, sources or sourcemaps', () => {
    for (const f of [
      'package.json',
      'README.md',
      'bin/trellis.js',
      'dist/src/cli/main.js',
      'dist/console/index.html',
      'dist/src/workload/index.js',
      'dist/types/workload/index.d.ts',
    ]) {
      expect(files).toContain(f);
    }
    // The examples are their own package (examples/package.json): not part of Trellis.
    expect(files.filter((f) => f.startsWith('examples/') || f.startsWith('dist/src/examples/'))).toEqual([]);
    expect(
      files.filter((f) => /\.test\.js$|\.map$|(?<!\.d)\.ts$|^dist\/(test|bench)\/|^src\/|^test\//.test(f)),
    ).toEqual([]);
  });
});

describe('npm install of the tarball into a fresh prefix', () => {
  it('succeeds without an EBADENGINE warning', () => {
    expect(install.code, install.stderr).toBe(0);
    expect(`${install.stdout}${install.stderr}`).not.toContain('EBADENGINE');
  });

  it('needs no build: trellis --version prints the version', async () => {
    const r = await run(join(prefix, 'node_modules', '.bin', 'trellis'), ['--version'], { cwd: tmp });
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('builds a release from the installed Trellis (hoisted dependencies, no package-lock) that runs elsewhere', async () => {
    const home = join(tmp, 'home');
    const r = await run(
      process.execPath,
      [join(installed(), 'bin', 'trellis.js'), 'release', 'build', '-o', 'json'],
      {
        cwd: tmp,
        env: { PATH: process.env.PATH, HOME: home, TRELLIS_HOME: home },
      },
    );
    const rel = JSON.parse(r.stdout) as { id: string; path: string };
    const host = join(tmp, 'host');
    await mkdir(host);
    await run('tar', ['-xzf', rel.path, '-C', host]);
    const v = await run(process.execPath, [join(host, rel.id, 'bin', 'trellis.js'), '--version'], {
      cwd: tmp,
      env: { PATH: process.env.PATH, HOME: home },
    });
    expect(v.stdout.trim()).toBe(VERSION);
  }, 180_000);

  it("has no ioredis or pglite-socket in its tree (npm ls --omit=dev): they are the examples' own", async () => {
    const ls = await npm(['ls', '--omit=dev', '--all', '--json'], prefix);
    expect(ls.code, ls.stderr).toBe(0);
    const names = new Set<string>();
    const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined) => {
      for (const [name, d] of Object.entries(deps ?? {})) {
        names.add(name);
        walk(d.dependencies as Record<string, { dependencies?: Record<string, unknown> }> | undefined);
      }
    };
    walk(
      (JSON.parse(ls.stdout) as { dependencies?: Record<string, { dependencies?: Record<string, unknown> }> })
        .dependencies,
    );
    expect(names).toContain('trellis');
    expect(names).toContain('fastify');
    expect([...names].filter((n) => n === 'ioredis' || n === '@electric-sql/pglite-socket')).toEqual([]);
  });

  it('offers a workload trellis/workload (the env file reader, the PROXY v2 parser) and nothing deeper', async () => {
    const probe = `import('trellis/workload').then((m) => console.log(Object.keys(m).sort().join(',')))`;
    const r = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: prefix });
    expect(r.stdout.trim()).toBe('PROXY_V2_SIGNATURE,contractEnvName,parseEnvFile,parseProxyV2,readEnvFile');
    const deep = `import('trellis/dist/src/errors.js').then(() => console.log('imported'), (e) => console.log(e.code))`;
    const d = await run(process.execPath, ['--input-type=module', '-e', deep], { cwd: prefix });
    expect(d.stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

describe('the checkout', () => {
  it('npm ls --omit=dev of the trellis package (not its examples workspace) has no ioredis or pglite-socket', async () => {
    const ls = await npm(['ls', '--omit=dev', '--all', '--workspaces=false', '--parseable'], REPO_ROOT);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('/node_modules/fastify');
    expect(ls.stdout.split('\n').filter((l) => /\/(ioredis|pglite-socket)$/.test(l))).toEqual([]);
  });
});

const rigReason = await rigUnavailable();
describe.skipIf(rigReason !== undefined && process.env.CI !== 'true')(
  'on a rig host with nothing but Node (no network, no registry)',
  () => {
    it('npm install --offline of the tarball, then trellis --version works', async () => {
      if (rigReason) throw new Error(`CI=true but the multi-host rig cannot run: ${rigReason}`);
      const rig = await startRig({ hosts: ['bare'] });
      try {
        const host = rig.host('bare');
        const at = join(host.root, 'npm');
        const r = await rig.exec(
          host,
          ['npm', 'install', '--offline', '--no-audit', '--no-fund', '--prefix', at, tarball],
          { timeoutMs: 240_000 },
        );
        expect(r.code, r.stderr).toBe(0);
        const v = await rig.exec(host, [join(at, 'node_modules', '.bin', 'trellis'), '--version']);
        expect(v.stdout.trim(), v.stderr).toBe(VERSION);
      } finally {
        await rig.close();
      }
    }, 300_000);
  },
);
