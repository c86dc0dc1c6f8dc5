import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { TrellisError } from '../errors.js';
import { trellisHome } from '../home/config.js';
import { dependencyClosure, readManifest } from './closure.js';
import { type TarEntry, writeTar } from './tar.js';

/**
 * The release: what `trellis deploy` copies to a host that has Node but no network. It is the
 * npm package (exactly the files `npm pack` ships) plus the production and optional dependency
 * closure, under one top directory named by the content's hash, so the same content always
 * gets the same id and a host that already has an id needs no copy.
 */
export interface Release {
  /** `trellis-<version>-<first 12 hex of sha256 of the content>`: same content → same id. */
  id: string;
  version: string;
  /** Absolute path of a .tar.gz whose top directory is `<id>/`. */
  tarball: string;
  bytes: number;
}

/** Bumped when the layout or the hashing changes, so old cache entries are not reused. */
const FORMAT = 'trellis-release/1';

const execFileP = promisify(execFile);

interface FileEntry {
  /** Path inside the release, `/`-separated. */
  path: string;
  source: string;
  st: Stats;
}

/** The package root of the running Trellis: the nearest package.json named "trellis" above this module. */
export async function runningPackageRoot(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const m = await readManifest(dir).catch(() => undefined);
    if (m?.name === 'trellis') return dir;
    if (dirname(dir) === dir) {
      throw new TrellisError('TRELLIS_ERR_INTERNAL', 'cannot find the package.json of the running Trellis');
    }
  }
}

/** Builds (or reuses from cacheDir) the release of the running Trellis. */
export async function currentRelease(opts: { cacheDir?: string } = {}): Promise<Release> {
  return buildRelease({
    packageRoot: await runningPackageRoot(),
    cacheDir: opts.cacheDir ?? join(trellisHome(), 'releases'),
  });
}

/** Every file below `dir`, skipping nested node_modules (placed separately) and symlinked dirs. */
async function walk(dir: string, prefix: string, out: FileEntry[]): Promise<void> {
  const names = (await readdir(dir)).sort();
  await Promise.all(
    names.map(async (name) => {
      const source = join(dir, name);
      const path = prefix ? `${prefix}/${name}` : name;
      let st = await lstat(source);
      if (st.isSymbolicLink()) {
        st = await stat(source).catch(() => st);
        if (!st.isFile()) return; // a dangling or directory link: never followed, no loops
      }
      if (st.isDirectory()) {
        if (name === 'node_modules' || name === '.git' || name === '.cache') return;
        await walk(source, path, out);
      } else if (st.isFile()) out.push({ path, source, st });
    }),
  );
}

/** The files the package's `files` field can reach, for the cache key (a superset is fine). */
async function packageCandidates(root: string, files: string[] | undefined): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const tops = new Set(['package.json']);
  for (const f of files ?? ['.']) {
    if (f.startsWith('!')) continue;
    const top =
      f
        .replace(/^\.\//, '')
        .split('/')[0]
        ?.replace(/[*?[{].*$/, '') ?? '';
    tops.add(top === '' ? '.' : top);
  }
  for (const top of [...tops].sort()) {
    const source = join(root, top);
    const st = await stat(source).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await walk(source, top === '.' ? '' : top, out);
    else out.push({ path: top, source, st });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function fileMode(st: Stats): number {
  // World-readable and nothing else: a host's service user must read it, nobody may write it.
  return st.mode & 0o100 ? 0o755 : 0o644;
}

/** What `npm pack` would ship, straight from npm (no scripts: the running dist/ is the release). */
async function packedFiles(root: string): Promise<string[]> {
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts', '--no-audit', '--no-fund'];
  const bundledNpm = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  let stdout: string;
  try {
    ({ stdout } = await execFileP('npm', args, { cwd: root, maxBuffer: 64 << 20 }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw npmFailed(err);
    // No npm on PATH (a service account's minimal PATH): the npm that ships with this node.
    try {
      ({ stdout } = await execFileP(process.execPath, [bundledNpm, ...args], {
        cwd: root,
        maxBuffer: 64 << 20,
      }));
    } catch (err2) {
      throw npmFailed(err2);
    }
  }
  const parsed = JSON.parse(stdout) as { files: { path: string }[] }[];
  const files = parsed[0]?.files.map((f) => f.path);
  if (!files || files.length === 0) throw npmFailed(new Error('npm pack listed no files'));
  return files;
}

function npmFailed(err: unknown): TrellisError {
  const detail = (err as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? String(err);
  return new TrellisError(
    'TRELLIS_ERR_UNAVAILABLE',
    `cannot list the package's files with npm pack: ${detail}`,
    {
      hint: 'a release is built with the npm that comes with Node; put npm on PATH',
    },
  );
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Directory entries for every parent of `files`, then the files, in one sorted order. */
function tarEntries(files: FileEntry[]): TarEntry[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [
    ...[...dirs].map((path): TarEntry => ({ path, type: 'dir', mode: 0o755, size: 0 })),
    ...files.map(
      (f): TarEntry => ({
        path: f.path,
        type: 'file',
        mode: fileMode(f.st),
        size: f.st.size,
        source: f.source,
      }),
    ),
  ];
  // Byte order, not locale order: the same on every machine.
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

interface CacheKey {
  id: string;
  version: string;
  bytes: number;
}

/**
 * What a host runs from; the package's documentation stays with the package. Were docs in the
 * release, a doc edit would be a new release id, hence changed units, hence every daemon and
 * service of the fabric restarted by the next `fabric up` or deploy.
 */
export function isRuntimeFile(path: string): boolean {
  return !(path.startsWith('docs/') || path === 'README.md');
}

/**
 * `provided`: packages the host already has and the package must not carry (an app package's
 * `trellis` peer: the host's release). The same code packs an app package (see app-bundle.ts).
 */
export async function buildRelease(o: {
  packageRoot: string;
  cacheDir: string;
  provided?: readonly string[];
}): Promise<Release> {
  const root = await realpath(o.packageRoot);
  const manifest = await readManifest(root);
  const version = manifest.version ?? '0.0.0';
  const deps = (await dependencyClosure(root, o.provided)).filter((p) => p.target !== '');

  // The cache key, cheap enough for every deploy: the size, mtime and mode of each file the
  // package can ship (a rebuilt dist/ misses and is packed again; unchanged content still gets
  // the same id), and each dependency's place, version and package.json (an install rewrites it).
  const key = createHash('sha256').update(
    `${FORMAT}\n${root}\n${(o.provided ?? []).join(',')}\n${await readFile(join(root, 'package.json'), 'utf8')}\n`,
  );
  for (const f of await packageCandidates(root, manifest.files)) {
    if (!isRuntimeFile(f.path)) continue;
    key.update(`${f.path}\0${f.st.size}\0${f.st.mtimeMs}\0${fileMode(f.st)}\n`);
  }
  for (const dep of deps) {
    const st = await stat(join(dep.source, 'package.json'));
    key.update(`${dep.target}\0${dep.source}\0${dep.version}\0${st.size}\0${st.mtimeMs}\n`);
  }
  const cacheDir = o.cacheDir;
  await mkdir(join(cacheDir, 'keys'), { recursive: true, mode: 0o700 });
  await chmod(cacheDir, 0o700);
  const keyFile = join(cacheDir, 'keys', `${key.digest('hex').slice(0, 32)}.json`);
  const cached = await readFile(keyFile, 'utf8').then(
    (s) => JSON.parse(s) as CacheKey,
    () => undefined,
  );
  if (cached) {
    const tarball = join(cacheDir, `${cached.id}.tar.gz`);
    const st = await stat(tarball).catch(() => undefined);
    if (st?.size === cached.bytes) return { ...cached, tarball };
  }

  const depFiles: FileEntry[] = [];
  for (const dep of deps) await walk(dep.source, dep.target, depFiles);
  const own: FileEntry[] = [];
  for (const path of await packedFiles(root)) {
    if (!isRuntimeFile(path)) continue;
    const source = join(root, path);
    own.push({ path, source, st: await stat(source) });
  }
  const entries = tarEntries([...own, ...depFiles]);
  const content = createHash('sha256');
  for (const e of entries) {
    content.update(`${e.type} ${e.mode.toString(8)} ${e.size} ${e.path}\0`);
    if (e.source) content.update(await sha256File(e.source));
  }
  const id = `${manifest.name ?? 'package'}-${version}-${content.digest('hex').slice(0, 12)}`;
  const tarball = join(cacheDir, `${id}.tar.gz`);
  let bytes = (await stat(tarball).catch(() => undefined))?.size;
  if (bytes === undefined) {
    const tmp = `${tarball}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const gzip = createGzip({ level: 6 });
      const written = pipeline(gzip, createWriteStream(tmp, { mode: 0o644 }));
      const top: TarEntry = { path: id, type: 'dir', mode: 0o755, size: 0 };
      await writeTar(gzip, [top, ...entries.map((e) => ({ ...e, path: `${id}/${e.path}` }))]);
      gzip.end();
      await written;
      await chmod(tmp, 0o644);
      await rename(tmp, tarball);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    bytes = (await stat(tarball)).size;
  }
  await writeAtomic(keyFile, `${JSON.stringify({ id, version, bytes } satisfies CacheKey)}\n`, 0o600);
  return { id, version, tarball, bytes };
}
