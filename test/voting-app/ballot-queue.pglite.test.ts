import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../../examples/voting-app/src/fabric-address.js';
import { connectPg } from '../../examples/voting-app/src/queue/pg-connect.js';
import { PgliteQueue } from '../../examples/voting-app/src/queue/pglite-queue.js';
import { type RunningVotingDb, startVotingDb } from '../../examples/voting-app/src/services/voting-db.js';
import { ballotQueueConformance } from './ballot-queue.conformance.js';
import { ballotsSurviveARestart } from './voting-db-durability.js';

/**
 * PgliteQueue over the Postgres wire: the embedded voting-db (PGlite + pglite-socket), which
 * multiplexes every client onto PGlite's single backend — the concurrency cases of the shared
 * suite are what show that one statement per operation holds up there.
 */
const HOST = '127.0.8.21';
let db: RunningVotingDb;

beforeAll(async () => {
  db = await startVotingDb({ host: HOST, port: 0, kind: 'pglite' });
});
afterAll(async () => {
  await db?.close();
});

ballotQueueConformance({
  name: 'PGlite over pglite-socket',
  async fresh() {
    const at = parseHostPort(db.address);
    const admin = await connectPg(at);
    try {
      await admin.query('TRUNCATE ballots, voters');
    } finally {
      await admin.end();
    }
    return { connect: () => PgliteQueue.connect(at) };
  },
});

describe('pglite-socket: why every queue operation is one statement', () => {
  it('a transaction left open by one client stalls every other client until it ends', async () => {
    const at = parseHostPort(db.address);
    const a = await connectPg(at);
    const b = await connectPg(at);
    try {
      await a.query('BEGIN');
      await a.query('SELECT 1');
      let answered = false;
      const other = b.query('SELECT 2').then(() => {
        answered = true;
      });
      await sleep(300);
      // PGlite has one backend: pglite-socket serves only the client inside the transaction.
      expect(answered).toBe(false);
      await a.query('COMMIT');
      await other;
      expect(answered).toBe(true);
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('embedded voting-db with VOTING_DB_DATA_DIR', () => {
  // In process, the first PGlite can only be closed, not crashed; the chaos test
  // (chaos.embedded.test.ts) kills the voting-db process with SIGKILL.
  it('a ballot queued before voting-db stops is claimable after a restart on the same dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'voting-db-pglite-'));
    try {
      await ballotsSurviveARestart({
        start: () => startVotingDb({ host: HOST, port: 0, kind: 'pglite', dataDir }),
        stop: (db) => db.close(),
        connect: (db) => PgliteQueue.connect(parseHostPort(db.address)),
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
