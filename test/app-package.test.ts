import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill, loadAppFile, usesAppPackage } from '../src/app/app-file.js';
import type { InventoryHost } from '../src/inventory/inventory.js';
import { appPackage, appPackageRoot } from '../src/release/app-package.js';
import { installApp } from '../src/remote/app-install.js';
import { connect } from '../src/remote/connection.js';
import { REPO_ROOT } from './support/cli.js';

/**
 * An app's own package (`{app}`, docs/app-file.md): the examples package packed without Trellis,
 * unpacked on a host under R/apps/<id>, its `trellis/workload` import served by the host's
 * release through R/apps/node_modules/trellis. Real files, a real tarball, a real local shell.
 */

const run = promisify(execFile);
const VOTING_APP = join(REPO_ROOT, 'examples', 'voting-app', 'app.yaml');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'trellis-app-package-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const localHost = (root: string, vars: Record<string, unknown> = {}): InventoryHost => ({
  name: 'gcp-12',
  groups: ['vms'],
  connection: 'local',
  address: '127.0.0.1',
  port: 22,
  sshArgs: [],
  root,
  advertise: '127.0.0.1',
  processors: ['gcp-p1'],
  vars,
});

describe('{app} in an app file', () => {
  it('is the app package on the VM; a service that names it with no package installed is refused by name', () => {
    const p = { address: '10.0.0.5', datadir: '/d', vm: 'gcp-12', release: '/r' };
    expect(fill('{app}/dist/x.js', { ...p, app: '/opt/trellis/apps/a-1' })).toBe(
      '/opt/trellis/apps/a-1/dist/x.js',
    );
    expect(() => fill('{app}/dist/x.js', { ...p, app: undefined })).toThrow(
      /"\{app\}\/dist\/x.js" names \{app\}, but no app package is installed on the VM/,
    );
    expect(fill('{release}/bin/trellis.js', { ...p, app: undefined })).toBe('/r/bin/trellis.js');
  });

  it("the Voting App's services all run from it; a command of the host's own does not", async () => {
    const app = await loadAppFile(VOTING_APP);
    for (const service of Object.values(app.spec.services)) expect(usesAppPackage(service)).toBe(true);
    expect(usesAppPackage({ command: ['python3', '-m', 'http.server'], args: [], env: {}, serve: {} })).toBe(
      false,
    );
  });

  it('the package is the nearest package.json above the app file; none is a clear error', async () => {
    expect(await appPackageRoot(VOTING_APP)).toBe(join(REPO_ROOT, 'examples'));
    const lone = join(tmp, 'lone', 'app.yaml');
    await run('mkdir', ['-p', join(tmp, 'lone')]);
    await writeFile(lone, 'apiVersion: trellis/v1\n');
    // tmp is under /tmp: no package.json above it on this machine.
    await expect(appPackageRoot(lone)).rejects.toThrow(/names \{app\}, but no package.json is at or above/);
  });
});

describe('the packed examples package', () => {
  it("holds the compiled services and the examples' own dependencies, and neither Trellis nor its dependencies", async () => {
    const pkg = await appPackage(join(REPO_ROOT, 'examples'), join(tmp, 'cache'));
    expect(pkg.id).toMatch(/^trellis-examples-0\.1\.0-[0-9a-f]{12}$/);
    const { stdout } = await run('tar', ['-tzf', pkg.tarball], { maxBuffer: 64 << 20 });
    const entries = stdout.split('\n').map((l) => l.slice(pkg.id.length + 1));
    for (const f of [
      'package.json',
      'dist/voting-app/src/services/voting-db.js',
      'node_modules/ioredis/package.json',
      'node_modules/@electric-sql/pglite-socket/package.json',
      'node_modules/pg/package.json',
    ]) {
      expect(entries).toContain(f);
    }
    expect(entries.filter((e) => /^node_modules\/(trellis|fastify|zod)\//.test(e))).toEqual([]);
    expect(
      entries.filter((e) => e.endsWith('.ts') && !e.endsWith('.d.ts') && !e.startsWith('node_modules/')),
    ).toEqual([]);
  }, 60_000);
});

describe('installApp on a host', () => {
  it('unpacks the package once under R/apps/<id>, links R/apps/node_modules/trellis to the release, and the service imports trellis/workload through it', async () => {
    const root = join(tmp, 'host');
    const conn = connect(localHost(root));
    const app = await loadAppFile(VOTING_APP);
    // The checkout stands in for the host's unpacked release (its bin/trellis.js, its exports).
    const release = {
      id: 'checkout',
      node: process.execPath,
      bin: join(REPO_ROOT, 'bin', 'trellis.js'),
      wrapper: '',
    };
    const pack = (r: string) => appPackage(r, join(tmp, 'cache'));
    const dir = await installApp(conn, app, 'voting-db', release, pack);
    expect(dir).toMatch(new RegExp(`^${root}/apps/trellis-examples-0\\.1\\.0-[0-9a-f]{12}$`));
    const complete = await readFile(join(dir!, '.complete'), 'utf8');
    expect(await readlink(join(root, 'apps', 'node_modules', 'trellis'))).toBe(REPO_ROOT.replace(/\/$/, ''));

    // Again: the package is there, not copied twice (.complete keeps its time).
    await new Promise((r) => setTimeout(r, 1100));
    expect(await installApp(conn, app, 'voting-db', release, pack)).toBe(dir);
    expect(await readFile(join(dir!, '.complete'), 'utf8')).toBe(complete);

    const probe = `import(${JSON.stringify(join(dir!, 'dist', 'voting-app', 'src', 'fabric-address.js'))}).then((m) => console.log(typeof m.fabricAddress))`;
    const r = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: tmp });
    expect(r.stdout.trim()).toBe('function');
  }, 60_000);

  it('a lab host (trellis_release: link) runs the package where it is; nothing is packed', async () => {
    const conn = connect(localHost(join(tmp, 'lab-host'), { trellis_release: 'link' }));
    const app = await loadAppFile(VOTING_APP);
    const release = {
      id: 'linked',
      node: process.execPath,
      bin: join(REPO_ROOT, 'bin', 'trellis.js'),
      wrapper: '',
    };
    const dir = await installApp(conn, app, 'http-proxy', release, () =>
      Promise.reject(new Error('must not pack')),
    );
    expect(dir).toBe(join(REPO_ROOT, 'examples'));
  });
});
