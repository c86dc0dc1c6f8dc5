import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import type { LabPaths } from './state.js';

/**
 * Where the lab's hosts live: each host's trellis_root is `<dir>/hosts/<name>`, as /opt/trellis
 * is on a real host. Not under $TRELLIS_HOME, whose private directories a store running as its
 * own user (Debian's postgres, redis) could not traverse to its {datadir}: one directory per
 * lab, made with mkdtemp (an unpredictable name nobody else can have created first), 0711 —
 * traversable, not listable — and recorded in the lab directory, so data outlives `lab down`.
 * The lab directory links to it as `hosts`.
 */
export async function labHostsDir(paths: LabPaths): Promise<string> {
  const hosts = join(await dataRoot(paths), 'hosts');
  await mkdir(hosts, { recursive: true, mode: 0o711 });
  await chmod(hosts, 0o711);
  const current = await readlink(paths.hosts).catch(() => undefined);
  if (current !== hosts) {
    await rm(paths.hosts, { force: true });
    await symlink(hosts, paths.hosts);
  }
  return hosts;
}

async function dataRoot(paths: LabPaths): Promise<string> {
  const recorded = await readFile(paths.dataDirRecord, 'utf8').then(
    (t) => t.trim(),
    () => '',
  );
  if (
    recorded &&
    (await ours(recorded).then(
      () => true,
      () => false,
    ))
  )
    return recorded;
  const dir = await mkdtemp(join(tmpdir(), 'trellis-lab-'));
  await chmod(dir, 0o711);
  await writeFile(paths.dataDirRecord, `${dir}\n`, { mode: 0o600 });
  return dir;
}

/** A real directory (not a link) owned by this user, or an error naming it. */
async function ours(dir: string): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.()) {
    throw new TrellisError('TRELLIS_ERR_CONFLICT', `${dir} is not a directory of this user`, {
      hint: "remove it, or the lab directory's data-dir record, and start the lab again",
    });
  }
}
