import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedAddress } from '../../examples/voting-app/src/fabric-address.js';
import { connectPg } from '../../examples/voting-app/src/queue/pg-connect.js';
import { PgliteQueue } from '../../examples/voting-app/src/queue/pglite-queue.js';
import { readTally } from '../../examples/voting-app/src/result-store.js';
import { type RunningResultDb, startResultDb } from '../../examples/voting-app/src/services/result-db.js';
import { type RunningVotingDb, startVotingDb } from '../../examples/voting-app/src/services/voting-db.js';
import { type RunningWorker, startWorker } from '../../examples/voting-app/src/services/worker.js';
import type { Tally } from '../../examples/voting-app/src/tally.js';
import { until } from '../support/wait.js';
import { ballot, voter } from './ballot-queue.conformance.js';

/**
 * The worker between real (embedded) stores: idempotent application of ballots, and no ballot
 * lost while either store is down or restarts.
 */
const VOTING_DB = { host: '127.0.8.31', port: 46431 };
const RESULT_DB = { host: '127.0.8.32', port: 46432 };
const WORKER = '127.0.8.33';
const FAST_BACKOFF = { initialMs: 50, maxMs: 300 };

let votingDb: RunningVotingDb | undefined;
let resultDb: RunningResultDb | undefined;
let worker: RunningWorker | undefined;
let queue: PgliteQueue;
let dataDir: string;

const startResult = () => startResultDb({ ...RESULT_DB, kind: 'pglite', dataDir });

async function tally(): Promise<Tally> {
  const c = await connectPg(RESULT_DB);
  try {
    return await readTally(c);
  } finally {
    await c.end();
  }
}

async function settle(expected: Tally): Promise<void> {
  await until(`tally ${JSON.stringify(expected)}`, async () => {
    const t = await tally();
    return JSON.stringify(t) === JSON.stringify(expected) && (await queue.size()) === 0 ? true : undefined;
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'voting-worker-test-'));
  [votingDb, resultDb] = await Promise.all([startVotingDb({ ...VOTING_DB, kind: 'pglite' }), startResult()]);
  queue = await PgliteQueue.connect(VOTING_DB);
  worker = await startWorker({
    host: WORKER,
    port: 0,
    votingWorker: fixedAddress(`${VOTING_DB.host}:${VOTING_DB.port}`),
    resultWorker: fixedAddress(`${RESULT_DB.host}:${RESULT_DB.port}`),
    votingDbKind: 'auto',
    batch: 10,
    waitMs: 200,
    staleMs: 2_000,
    backoff: FAST_BACKOFF,
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await votingDb?.close();
  await resultDb?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('worker', () => {
  it('applies each voter’s last choice; replays and duplicates change nothing', async () => {
    const voters = Array.from({ length: 20 }, () => voter());
    for (const [i, v] of voters.entries()) await queue.cast(v, i < 12 ? 'Mesos' : 'Kubernetes');
    // Five voters change their minds: Mesos → Kubernetes.
    for (const v of voters.slice(0, 5)) await queue.cast(v, 'Kubernetes');
    await settle({ Mesos: 7, Kubernetes: 13, total: 20 });

    // Replays of their first ballots (seq 1) arrive late, some twice: the tally stands.
    for (const v of voters.slice(0, 5)) {
      const old = ballot({ voterId: v, vote: 'Mesos', seq: 1 });
      await queue.push(old);
      await queue.push(old);
    }
    await until('the replays to be consumed', async () => ((await queue.size()) === 0 ? true : undefined));
    await sleep(200);
    expect(await tally()).toEqual({ Mesos: 7, Kubernetes: 13, total: 20 });
  });

  it('discards an item that is not a ballot instead of retrying it forever', async () => {
    const before = worker!.stats().invalid;
    await queue.push({ voterId: 'nope', vote: 'Nomad', seq: 0, ts: 'yesterday' } as never);
    await until('the bad item to be dropped', async () =>
      worker!.stats().invalid > before ? true : undefined,
    );
    expect(await queue.size()).toBe(0);
  });

  it('holds ballots while result-db is down and loses none when it comes back', async () => {
    const base = await tally();
    await resultDb!.close();
    resultDb = undefined;
    const voters = Array.from({ length: 15 }, () => voter());
    for (const v of voters) await queue.cast(v, 'Mesos');
    await sleep(1_000);
    // Claimed perhaps, but not acknowledged: still in voting-db.
    expect(await queue.size()).toBe(15);
    resultDb = await startResult();
    await settle({ ...base, Mesos: base.Mesos + 15, total: base.total + 15 });
  }, 45_000);

  it('reconnects to voting-db after it restarts', async () => {
    const base = await tally();
    await queue.close();
    await votingDb!.close();
    votingDb = undefined;
    await sleep(300);
    votingDb = await startVotingDb({ ...VOTING_DB, kind: 'pglite' });
    queue = await PgliteQueue.connect(VOTING_DB);
    for (let i = 0; i < 4; i++) await queue.cast(voter(), 'Kubernetes');
    await settle({ ...base, Kubernetes: base.Kubernetes + 4, total: base.total + 4 });
    const r = await fetch(`${worker!.url}/readyz`);
    expect(r.status).toBe(200);
    expect((await r.json()).upstreams).toEqual({ 'voting-worker': 'ok', 'result-worker': 'ok' });
  }, 45_000);
});
