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
  it('ships bin/, the compiled dist/, the console, the example files and README; no tests, sources or sourcemaps', () => {
    for (const f of [
      'package.json',
      'README.md',
      'bin/trellis.js',
      'dist/src/cli/main.js',
      'dist/console/index.html',
    ]) {
      expect(files).toContain(f);
    }
    expect(files).toContain('examples/voting-app/lab.yaml');
    expect(
      files.filter((f) => /\.test\.js$|\.map$|\.ts$|^dist\/(test|bench)\/|^src\/|^test\//.test(f)),
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

  it('without the optional packages, trellis still runs and the Voting App store names what to install', async () => {
    await rm(join(prefix, 'node_modules', 'ioredis'), { recursive: true, force: true });
    await rm(join(prefix, 'node_modules', '@electric-sql', 'pglite-socket'), {
      recursive: true,
      force: true,
    });
    const bin = join(prefix, 'node_modules', '.bin', 'trellis');
    expect((await run(bin, ['--version'], { cwd: tmp })).stdout.trim()).toBe(VERSION);
    expect((await run(bin, ['orchestrator', '--help'], { cwd: tmp })).stdout).toContain(
      'Usage: trellis orchestrator',
    );
    const server = join(installed(), 'dist', 'src', 'examples', 'voting-app', 'servers', 'pglite-server.js');
    const probe = `import(${JSON.stringify(server)}).then((m) => m.startPgliteServer({ host: '127.0.0.1', port: 0 })).then(() => console.log('started'), (e) => console.log(e.message))`;
    const r = await run(process.execPath, ['-e', probe], { cwd: tmp });
    expect(r.stdout).toContain('needs the optional package "@electric-sql/pglite-socket"');
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
