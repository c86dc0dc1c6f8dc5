import { expect } from 'vitest';
import type { VotingStore } from '../../examples/voting-app/src/queue/ballot-queue.js';
import type { RunningVotingDb } from '../../examples/voting-app/src/services/voting-db.js';
import { voter } from './ballot-queue.conformance.js';

/**
 * voting-db with VOTING_DB_DATA_DIR: what was cast before it went down is there after it
 * restarts on the same directory — queued ballots, a claim left unacknowledged, each voter's
 * choice and seq. (The seq matters as much as the ballots: were it to restart at 1, result-db's
 * upsert, which keeps the highest seq, would ignore the voter's next ballots.)
 */
export async function ballotsSurviveARestart(o: {
  /** Starts voting-db on the test's data directory (the same one each time). */
  start(): Promise<RunningVotingDb>;
  /** Ends the first voting-db — a crash (SIGKILL of the store) where the test can do one. */
  stop(db: RunningVotingDb): Promise<void>;
  connect(db: RunningVotingDb): Promise<VotingStore>;
}): Promise<void> {
  const a = voter();
  const b = voter();
  const first = await o.start();
  const q1 = await o.connect(first);
  try {
    expect(await q1.cast(a, 'Mesos')).toMatchObject({ ok: true, ballot: { seq: 1 } });
    expect(await q1.cast(b, 'Kubernetes')).toMatchObject({ ok: true, ballot: { seq: 1 } });
    expect(await q1.cast(a, 'Kubernetes')).toMatchObject({ ok: true, ballot: { seq: 2 } });
    // A worker claims the oldest ballot and dies before acknowledging it.
    const claimed = await q1.claim('w-before', 1);
    expect(claimed.map((c) => c.body)).toMatchObject([{ voterId: a, vote: 'Mesos', seq: 1 }]);
  } finally {
    await q1.close();
  }
  await o.stop(first);

  const second = await o.start();
  const q2 = await o.connect(second);
  try {
    expect(await q2.size()).toBe(3);
    // The dead worker's claim survived as a claim: it goes back to the queue as stale.
    expect(await q2.requeueStale(0)).toBe(1);
    const all = await q2.claim('w-after', 10);
    expect(all.map((c) => c.body)).toMatchObject([
      { voterId: a, vote: 'Mesos', seq: 1 },
      { voterId: b, vote: 'Kubernetes', seq: 1 },
      { voterId: a, vote: 'Kubernetes', seq: 2 },
    ]);
    for (const c of all) await q2.ack(c.receipt);
    expect(await q2.size()).toBe(0);
    expect(await q2.choiceOf(a)).toBe('Kubernetes');
    expect(await q2.cast(a, 'Mesos')).toMatchObject({ ok: true, ballot: { seq: 3 } });
  } finally {
    await q2.close();
    await second.close();
  }
}
