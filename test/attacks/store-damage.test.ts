import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api-client/client.js';
import { parseFabricText } from '../../src/apply/index.js';
import { cliEnv, spawnOrchestrator, TRELLIS_BIN } from '../support/cli.js';

/**
 * Issue 11, finding 3: a damaged store started silently. The attack run truncated the domains
 * table file (it started with 0 domains of 5, contracts pointing at missing domains, writes
 * accepted), cut the contracts table to half a page (0 contracts, no warning), truncated
 * ticket.key (a new key was generated silently, every flow then refused `bad signature`),
 * truncated ca.key (`DECODER routines::unsupported`, no file named) and damaged pg_control or the
 * WAL (`Aborted(). Build with -sASSERTIONS…`). Each case must now refuse to start at once, with
 * a message naming what is damaged and the way out (a restore from `trellis backup`).
 */

const HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');
// Four more domains with a contract each: the finding's store held 5 domains.
const MORE = ['alpha', 'bravo', 'charlie', 'delta']
  .map(
    (d) => `  - name: ${d}
    hostOwners: [${d}-c, ${d}-s]
    contracts:
      - name: ${d}-call
        client: { users: [${d}-c] }
        server: { users: [${d}-s] }
`,
  )
  .join('');
const FABRIC = `${HELLO.trimEnd()}\n${MORE}`;
const HOST = '127.0.141.21';
const PORT = 41000 + Math.floor(Math.random() * 4000);

let base: string;
let work: string;
let files: { domains: string; contracts: string };

/** Runs `trellis orchestrator` until it exits; still running after 30 s means it started (what broke). */
function startOn(dataDir: string): Promise<{ hung: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [TRELLIS_BIN, 'orchestrator', '--plain-http', '--listen', `${HOST}:${PORT}`, '--data-dir', dataDir],
      {
        env: { ...process.env, TRELLIS_ADMIN_PASSWORD: 'damage-admin-pw' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ hung, code, stderr });
    });
  });
}

/** A copy of the healthy data dir, damaged by `damage`. */
async function damaged(name: string, damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(work, name);
  await cp(base, dir, { recursive: true });
  await damage(dir);
  return dir;
}

function overwrite(file: string, at: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

async function expectRefusal(dir: string, names: string[]): Promise<string> {
  const r = await startOn(dir);
  expect(r.hung, `it started on a damaged store:\n${r.stderr}`).toBe(false);
  expect(r.code).not.toBe(0);
  for (const n of names) expect(r.stderr).toContain(n);
  // The way out, every time.
  expect(r.stderr).toContain('trellis orchestrator --restore');
  expect(r.stderr).not.toContain('Aborted()');
  return r.stderr;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'trellis-damage-'));
  base = join(work, 'healthy');
  const env = await cliEnv({ TRELLIS_ADMIN_PASSWORD: 'damage-admin-pw' });
  const orch = await spawnOrchestrator({ dataDir: base, env, listen: `${HOST}:${PORT}` });
  try {
    const api = new ApiClient(orch.url);
    const admin = api.withToken((await api.login('admin', 'damage-admin-pw')).token);
    await admin.apply(parseFabricText(FABRIC, 'fabric.yaml').spec, {
      prune: false,
      dryRun: false,
      passwords: {},
    });
    expect((await admin.domains()).length).toBe(6);
  } finally {
    await orch.stop();
  }
  // Where the two tables live in the data dir (as an operator finds them with SQL).
  const pg = new PGlite(base);
  const where = async (t: string) =>
    (await pg.query<{ p: string }>(`SELECT pg_relation_filepath('${t}'::regclass) AS p`)).rows[0]!.p;
  files = { domains: join(base, await where('domains')), contracts: join(base, await where('contracts')) };
  await pg.close();
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a damaged store refuses to start (issue 11, finding 3)', () => {
  it('the healthy copy starts (the control: the refusals below are the damage)', async () => {
    const r = await startOn(await damaged('control', async () => undefined));
    expect(r.hung, r.stderr).toBe(true);
    expect(r.stderr).toContain('listening on');
  }, 60_000);

  it('truncated domains table file: refused, naming the table and its file', async () => {
    const rel = files.domains.slice(base.length + 1);
    const dir = await damaged('domains', (d) => truncate(join(d, rel), 0));
    await expectRefusal(dir, ['table domains', join(dir, rel)]);
  }, 60_000);

  it('contracts table cut to half a page: refused, naming the table and its file', async () => {
    const rel = files.contracts.slice(base.length + 1);
    const dir = await damaged('contracts', async (d) =>
      truncate(join(d, rel), (await stat(join(d, rel))).size / 2),
    );
    await expectRefusal(dir, ['table contracts', join(dir, rel)]);
  }, 60_000);

  it('a garbled page of the contracts table (data checksums): refused, naming the table', async () => {
    const rel = files.contracts.slice(base.length + 1);
    const dir = await damaged('contracts-page', async (d) =>
      overwrite(join(d, rel), 200, Buffer.from('garbage!')),
    );
    await expectRefusal(dir, ['table contracts', join(dir, rel)]);
  }, 60_000);

  it('ticket.key truncated: refused naming it, never a new key generated', async () => {
    const dir = await damaged('ticket-key', async (d) => {
      const pem = await readFile(join(d, 'ticket.key'), 'utf8');
      await writeFile(join(d, 'ticket.key'), pem.slice(0, pem.length / 2));
    });
    await expectRefusal(dir, [join(dir, 'ticket.key')]);
  }, 60_000);

  it('ticket.key emptied or deleted: refused naming it, never a new key generated', async () => {
    const empty = await damaged('ticket-key-empty', (d) => truncate(join(d, 'ticket.key'), 0));
    await expectRefusal(empty, [join(empty, 'ticket.key')]);
    expect(await readFile(join(empty, 'ticket.key'), 'utf8')).toBe('');
    const gone = await damaged('ticket-key-gone', (d) => unlink(join(d, 'ticket.key')));
    await expectRefusal(gone, [join(gone, 'ticket.key')]);
    await expect(stat(join(gone, 'ticket.key'))).rejects.toThrow(/ENOENT/);
  }, 90_000);

  it('ca.key truncated: refused naming the file', async () => {
    const dir = await damaged('ca-key', async (d) => {
      const pem = await readFile(join(d, 'ca.key'), 'utf8');
      await writeFile(join(d, 'ca.key'), pem.slice(0, pem.length / 2));
    });
    const stderr = await expectRefusal(dir, [join(dir, 'ca.key')]);
    expect(stderr).not.toMatch(/^error: .*DECODER routines::unsupported$/m);
  }, 60_000);

  it('pg_control damaged: refused, naming the data dir', async () => {
    const dir = await damaged('pg-control', (d) => truncate(join(d, 'global', 'pg_control'), 100));
    await expectRefusal(dir, [dir]);
  }, 60_000);

  it('WAL damaged: refused, naming the data dir', async () => {
    const dir = await damaged('wal', async (d) => {
      const segments = (await readdir(join(d, 'pg_wal'))).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
      overwrite(join(d, 'pg_wal', segments.at(-1)!), 0, Buffer.alloc(32768, 0x5a));
    });
    await expectRefusal(dir, [dir]);
  }, 60_000);
});
