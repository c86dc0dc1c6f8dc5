import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { TrellisError } from '../../errors.js';
import { tightenTree } from '../../node/runtime/private-files.js';
import type { Db, Sql } from './db.js';
import { RESTORE_HINT } from './integrity.js';
import { Serial } from './serial.js';

const SHARED_BUFFERS = '16MB';

/**
 * Postgres' WASM runs on V8's baseline compiler (Liftoff) only (`--liftoff-only`; Node 20's
 * `--no-wasm-tier-up` does not stop dynamic tier-up). By default V8 also recompiles its hot
 * functions with TurboFan in the background: measured side by side on this store
 * (docs/benchmarks.md, "Control plane"), that cost ~40–50 MB of RSS for the optimised code
 * and ~1.5–2 s of CPU on the other core, and bought no speed (6,000 queries after 6,000 of
 * warm-up: 4.1–4.2 s with it, 4.2–4.3 s without). Process-wide, so set before the module is
 * compiled; the only other WASM an orchestrator runs is undici's HTTP parser.
 */
function keepWasmBaseline(): void {
  const asked = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  // An operator's own choice (--no-liftoff-only on the command line) wins.
  if (asked.some((a) => /^--(no-)?liftoff[-_]only$/.test(a))) return;
  if (!liftoffCoversEverything()) return;
  setFlagsFromString('--liftoff-only');
}

/**
 * Under --liftoff-only a function Liftoff cannot compile aborts the process instead of falling
 * back to TurboFan. Liftoff covers all of WASM on arm64, and on x64 when the CPU has SSE4.1
 * (its SIMD needs it: some VM CPU models, e.g. QEMU's `qemu64`, lack it, and undici's HTTP
 * parser is a SIMD module). Anywhere else the orchestrator keeps V8's default.
 */
function liftoffCoversEverything(): boolean {
  if (process.arch === 'arm64') return true;
  if (process.arch !== 'x64') return false;
  try {
    return /^flags\s*:.*\bsse4_1\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** Embedded Postgres (WASM) in a data directory: the zero-setup default. */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir !== undefined) await mkdir(dir, { recursive: true, mode: 0o700 });
  // Data checksums: a garbled page is then an error when read, not silently wrong rows. Postgres
  // 18's initdb (PGlite 0.5) enables them by default; asking keeps that true whatever it defaults to.
  const options = {
    initDbStartParams: ['--data-checksums'],
    // Postgres' 128 MB of shared buffers are most of PGlite's WASM heap once touched, for a store
    // of a few MB (1,000 nodes): 16 MB took ~120 MB off the orchestrator's RSS (issue 12's
    // 256 MB goal). On the command line, not postgresql.conf: the data dir is left as it is.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  };
  keepWasmBaseline();
  const pg = dir === undefined ? new PGlite(options) : new PGlite(dir, options);
  try {
    await pg.waitReady;
  } catch (err) {
    // A damaged pg_control or WAL surfaces as WASM's "Aborted(). Build with -sASSERTIONS…" or
    // "PGlite failed to initialize properly", which name neither the directory nor a way out.
    if (dir === undefined) throw err;
    const said = (err as Error).message;
    const detail = /^Aborted\(\)|failed to initialize/.test(said) ? '' : ` (${said})`;
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `the store in ${dir} cannot be opened: Postgres stopped while reading its control file (${join(dir, 'global', 'pg_control')}) or write-ahead log (${join(dir, 'pg_wal')}), which are damaged${detail}`,
      { hint: RESTORE_HINT },
    );
  }
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
