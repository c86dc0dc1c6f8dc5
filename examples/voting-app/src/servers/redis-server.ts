import { spawn } from 'node:child_process';
import { chown, lchown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPrivilegesTo } from './account.js';
import { captureTail, killOnExit, stopChild, waitForPort } from './child.js';

/**
 * A real redis-server (Debian `redis-server`) on the VM's address. By default in memory only
 * (no RDB snapshots, no AOF) — voting-db is the seed's "in-memory database": ballots survive
 * a crash of the worker (they stay claimed until acknowledged) but not a restart of voting-db.
 *
 * With `dataDir`, every write is appended to an AOF in that directory and fsynced before
 * Redis answers (`--appendonly yes --appendfsync always`), so a ballot acknowledged to the
 * voter survives a crash of voting-db — the append before the answer is what survives a
 * kill -9, the fsync on every write what survives the machine going down — and is there
 * again when it restarts on the same directory. The directory is kept on close.
 *
 * Started as root, it runs as the `redis` user that Debian's package creates, if there is one,
 * and its directory (a given one included, with what is in it) is handed to that user.
 */
export interface RedisServer {
  kind: 'redis';
  host: string;
  port: number;
  pid: number;
  /** Resolves when redis-server exits, with a description of how. */
  exited: Promise<string>;
  close(): Promise<void>;
}

export async function startRedisServer(o: {
  bin: string;
  host: string;
  port: number;
  /** Keep the data here (AOF, fsync on every write); in memory, in a temporary dir, if omitted. */
  dataDir?: string;
}): Promise<RedisServer> {
  if (o.port === 0) throw new Error('redis-server needs a fixed port (PORT), not 0');
  // A working directory of its own: redis-server would otherwise write dump files to the cwd.
  const temporary = o.dataDir === undefined;
  const dir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'voting-db-redis-')));
  if (!temporary) await mkdir(dir, { recursive: true, mode: 0o700 });
  const as = await dropPrivilegesTo('redis', false);
  // Redis must be able to write the directory and, on a restart, rewrite the AOF files that
  // an earlier run (as another user, perhaps) left in it.
  if (as) await chownTree(dir, as.uid, as.gid);
  const persistence = temporary ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  // protected-mode off: it would refuse every client but 127.0.0.1, and on a fabric VM the
  // client is the VM's own agent connecting from the VM's address. Bound to that address only.
  const args = [
    '--bind',
    o.host,
    '--port',
    String(o.port),
    '--protected-mode',
    'no',
    // No RDB snapshots either way: with a data dir the AOF is the durable copy.
    '--save',
    '',
    ...persistence,
    '--dir',
    dir,
  ];
  const child = spawn(o.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], uid: as?.uid, gid: as?.gid });
  killOnExit(child);
  const tail = captureTail(child);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`),
    ),
  );
  const cleanup = () => (temporary ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  try {
    await waitForPort(child, 'redis-server', o.host, o.port, tail, 15_000);
  } catch (err) {
    await stopChild(child);
    await cleanup();
    throw err;
  }
  return {
    kind: 'redis',
    host: o.host,
    port: o.port,
    pid: child.pid!,
    exited,
    async close() {
      await stopChild(child);
      await cleanup();
    },
  };
}

/** chown of a directory and everything under it (the AOF directory and its files); links are not followed. */
async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const e of await readdir(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await lchown(p, uid, gid);
  }
}
