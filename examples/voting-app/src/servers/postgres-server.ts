import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Account, dropPrivilegesTo } from './account.js';
import { captureTail, killOnExit, stopChild, waitForPort } from './child.js';

/**
 * A real Postgres (Debian `postgresql`) of result-db's own: `initdb` into a data directory,
 * then `postgres -D DIR` listening on the VM's address only.
 *
 * Postgres refuses to run as root. When we are root, both programs run as the `postgres`
 * system user that the Debian package creates (node's spawn with uid/gid, which also drops
 * root's supplementary groups), and the data directory is handed to that user.
 *
 * Authentication: `trust` by default — the fabric is the access control (only the VM's agent
 * delivers flows to this address). With `password` set, TCP logins need it (scram-sha-256);
 * clients pass it in PGPASSWORD.
 */
export interface PostgresServer {
  kind: 'postgres';
  host: string;
  port: number;
  pid: number;
  dataDir: string;
  exited: Promise<string>;
  close(): Promise<void>;
}

export interface PostgresServerOptions {
  binDir: string;
  host: string;
  port: number;
  /** Kept across restarts when given; a temporary directory (removed on close) otherwise. */
  dataDir?: string;
  password?: string;
  /** fsync off: for tests, where durability across a power cut does not matter. */
  unsafeFast?: boolean;
}

function run(bin: string, args: string[], as: Account | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], uid: as?.uid, gid: as?.gid });
    const tail = captureTail(child);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} exited with code ${code}:\n${tail()}`)),
    );
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function startPostgresServer(o: PostgresServerOptions): Promise<PostgresServer> {
  if (o.port === 0) throw new Error('postgres needs a fixed port (PORT), not 0');
  const as = await dropPrivilegesTo('postgres', true);
  const temporary = o.dataDir === undefined;
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'result-db-pg-')));
  const cleanup = () => (temporary ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve());
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (as) await chown(dataDir, as.uid, as.gid);
    if (!(await exists(join(dataDir, 'PG_VERSION')))) await initdb(o, dataDir, as);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const args = [
    '-D',
    dataDir,
    '-p',
    String(o.port),
    '-c',
    `listen_addresses=${o.host}`,
    // The Unix socket goes into the data directory: /var/run/postgresql may not exist or be ours.
    '-c',
    `unix_socket_directories=${dataDir}`,
    ...(o.unsafeFast
      ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
      : []),
  ];
  const child = spawn(join(o.binDir, 'postgres'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: as?.uid,
    gid: as?.gid,
  });
  killOnExit(child);
  const tail = captureTail(child);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`),
    ),
  );
  try {
    await waitForPort(child, 'postgres', o.host, o.port, tail, 30_000);
  } catch (err) {
    await stopChild(child);
    await cleanup();
    throw err;
  }
  return {
    kind: 'postgres',
    host: o.host,
    port: o.port,
    pid: child.pid!,
    dataDir,
    exited,
    async close() {
      // SIGTERM is Postgres's "smart" shutdown; SIGINT ("fast") does not wait for clients.
      if (child.exitCode === null) child.kill('SIGINT');
      await stopChild(child, 10_000);
      await cleanup();
    },
  };
}

async function initdb(o: PostgresServerOptions, dataDir: string, as: Account | undefined): Promise<void> {
  const args = ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'];
  let pwfile: string | undefined;
  if (o.password) {
    pwfile = join(tmpdir(), `result-db-pw-${process.pid}-${Date.now()}`);
    await writeFile(pwfile, `${o.password}\n`, { mode: 0o600 });
    if (as) await chown(pwfile, as.uid, as.gid);
    args.push(`--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256');
  } else {
    args.push('--auth=trust');
  }
  try {
    await run(join(o.binDir, 'initdb'), args, as);
  } finally {
    if (pwfile) await rm(pwfile, { force: true });
  }
  // initdb's pg_hba.conf only admits 127.0.0.1 and ::1; the agent delivers from the VM's
  // own address, which may be any 127.x.y.z in the lab or a real interface on a VM.
  const method = o.password ? 'scram-sha-256' : 'trust';
  await writeFile(
    join(dataDir, 'pg_hba.conf'),
    `local all all trust\nhost all all 0.0.0.0/0 ${method}\nhost all all ::/0 ${method}\n`,
  );
  if (as) await chown(join(dataDir, 'pg_hba.conf'), as.uid, as.gid);
}
