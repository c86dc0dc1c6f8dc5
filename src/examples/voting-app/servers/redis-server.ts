import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPrivilegesTo } from './account.js';
import { captureTail, killOnExit, stopChild, waitForPort } from './child.js';

/**
 * A real redis-server (Debian `redis-server`) on the VM's address: in memory only (no RDB
 * snapshots, no AOF) — voting-db is the seed's "in-memory database". Ballots survive a crash
 * of the worker (they stay claimed until acknowledged) but not a restart of voting-db itself.
 * Started as root, it runs as the `redis` user that Debian's package creates, if there is one.
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

export async function startRedisServer(o: { bin: string; host: string; port: number }): Promise<RedisServer> {
  if (o.port === 0) throw new Error('redis-server needs a fixed port (PORT), not 0');
  // A working directory of its own: redis-server would otherwise write dump files to the cwd.
  const dir = await mkdtemp(join(tmpdir(), 'voting-db-redis-'));
  const as = await dropPrivilegesTo('redis', false);
  if (as) await chown(dir, as.uid, as.gid);
  // protected-mode off: it would refuse every client but 127.0.0.1, and on a fabric VM the
  // client is the VM's own agent connecting from the VM's address. Bound to that address only.
  const args = [
    '--bind',
    o.host,
    '--port',
    String(o.port),
    '--protected-mode',
    'no',
    '--save',
    '',
    '--appendonly',
    'no',
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
  const cleanup = () => rm(dir, { recursive: true, force: true });
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
