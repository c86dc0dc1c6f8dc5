import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Data directories hold keys, tokens, the store: 0700, every file in them 0600, whatever the
 * umask of the shell that started the process. Two halves: a process umask of 077, so what is
 * created from now on is private, and a chmod of what exists (an older run's files, and files
 * whose creator sets their mode explicitly — PGlite makes its 0666 and recreates its relcache
 * files 0644 at every start, whatever the umask).
 */

export const PRIVATE_UMASK = 0o077;

/** From now on this process (and what it spawns) creates files 0600 and directories 0700. */
export function usePrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

/**
 * Every directory under `dir` (itself included) 0700, every file 0600. Symbolic links are not
 * followed (a link planted in the directory must not make us chmod its target), entries owned by
 * another user are left alone (a store running as its own user), and entries that vanish while
 * walking (a store rotating its files) are skipped.
 */
export async function tightenTree(dir: string): Promise<void> {
  const uid = process.getuid?.();
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => null);
    if (!st || st.isSymbolicLink() || (uid !== undefined && st.uid !== uid)) return;
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) await chmod(path, 0o700).catch(() => undefined);
      const entries = await readdir(path).catch(() => [] as string[]);
      for (const e of entries) await walk(join(path, e));
    } else if ((st.mode & 0o777) !== 0o600) {
      await chmod(path, 0o600).catch(() => undefined);
    }
  };
  await walk(dir);
}

/** The start of a long-running command: its data directory exists, 0700, and stays private. */
export async function makeDirPrivate(dir: string): Promise<void> {
  usePrivateUmask();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await tightenTree(dir);
}
