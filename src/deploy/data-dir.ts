import { chmod, lstat, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import type { LabPaths } from '../lab/state.js';

/**
 * `{datadir}`: where a VM's services keep data across restarts. It lives outside
 * $TRELLIS_HOME, whose private directories a store running as its own user (Debian's postgres,
 * redis) could not traverse: one root per lab, made with mkdtemp (an unpredictable name that
 * nobody else can have created first) and recorded in the lab directory; a directory per VM
 * below it. Both are 0711 — traversable, not listable; each store makes its own directory
 * inside 0700.
 */
export async function vmDataDir(paths: LabPaths, vm: string): Promise<string> {
  const dir = join(await dataRoot(paths), vm);
  try {
    await mkdir(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await ours(dir);
  await chmod(dir, 0o711);
  return dir;
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
      hint: "remove it, or the lab directory's data-dir record, and deploy again",
    });
  }
}
