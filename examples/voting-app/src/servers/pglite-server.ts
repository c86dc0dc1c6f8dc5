import { chmod, mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { importOptional } from '../optional-package.js';

/**
 * The embedded data store: PGlite (Postgres compiled to WebAssembly, in this process) served
 * on the Postgres wire by pglite-socket, so clients use an ordinary Postgres driver and the
 * fabric carries plain TCP. pglite-socket multiplexes all connections onto PGlite's single
 * backend; see queue/pglite-queue.ts for what that means for transactions.
 */
export interface PgliteServer {
  kind: 'pglite';
  host: string;
  port: number;
  db: PGlite;
  close(): Promise<void>;
}

/** Enough for every client of a lab plus tests; pglite-socket's default is 1. */
const MAX_CONNECTIONS = 256;

export async function startPgliteServer(o: {
  host: string;
  port: number;
  /** A data directory to keep the database in; in memory when omitted. */
  dataDir?: string;
  /** Applied before the port opens, so no client ever sees a database without its schema. */
  setup?: (db: PGlite) => Promise<void>;
}): Promise<PgliteServer> {
  if (o.dataDir) {
    // PGlite creates its files with default modes (0755 / 0666 under umask 022): the data
    // directory itself must keep other users out, as Postgres' own 0700 does.
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    await chmod(o.dataDir, 0o700);
  }
  const { PGLiteSocketServer } = await importOptional(
    () => import('@electric-sql/pglite-socket'),
    '@electric-sql/pglite-socket',
    'the embedded PGlite store',
  );
  const db = await PGlite.create(o.dataDir);
  try {
    await o.setup?.(db);
    const server = new PGLiteSocketServer({
      db,
      host: o.host,
      port: o.port,
      maxConnections: MAX_CONNECTIONS,
    });
    await server.start();
    const port = Number(server.getServerConn().split(':').at(-1));
    return {
      kind: 'pglite',
      host: o.host,
      port,
      db,
      async close() {
        await server.stop().catch(() => {});
        await db.close().catch(() => {});
      },
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
