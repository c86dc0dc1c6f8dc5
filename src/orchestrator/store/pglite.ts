import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { tightenTree } from '../../node-runtime/private-files.js';
import type { Db, Sql } from './db.js';
import { Serial } from './serial.js';

/** Embedded Postgres (WASM) in a data directory: the zero-setup default. */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  const pg = dir === undefined ? new PGlite() : new PGlite(dir);
  await pg.waitReady;
  // PGlite sets its own file modes (0666, and 0644 for the relcache files it rewrites at every
  // start) whatever the umask: tighten them once it is up. Files it creates later are 0600.
  if (dir !== undefined) await tightenTree(dir);
  const serial = new Serial();
  const asSql = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends object>(text: string, params: unknown[] = []) {
      const res = await q.query<T>(text, params);
      return res.rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });
  const base = asSql(pg);
  return {
    kind: 'pglite',
    query: (text, params) => serial.run(() => base.query(text, params)),
    exec: (script) => serial.run(() => base.exec(script)),
    // PGlite has one connection: a transaction and a concurrent query would interleave on it,
    // so reads wait for writes in the same queue.
    transaction: (fn) => serial.run(() => pg.transaction((tx) => fn(asSql(tx)))),
    close: () => pg.close(),
  };
}
