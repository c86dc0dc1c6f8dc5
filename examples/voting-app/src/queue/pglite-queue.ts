import { setTimeout as sleep } from 'node:timers/promises';
import { type Ballot, CastBallotSchema } from '../ballot.js';
import { isOption, type VoteOption } from '../config.js';
import type { HostPort } from '../fabric-address.js';
import type { CastResult, ClaimedBallot, VotingStore } from './ballot-queue.js';
import { PgConnection } from './pg-connect.js';

/**
 * The ballot queue on PGlite, reached over the Postgres wire (pglite-socket) with `pg`.
 *
 * PGlite is one Postgres backend: pglite-socket multiplexes every client onto it, and while
 * one client is inside a transaction it serves only that client. So a transaction spanning
 * several calls would stall every other client (and a client that vanished mid-transaction
 * would stall them until its socket closed). Every operation here is therefore ONE statement,
 * atomic on its own: claim is a single `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
 * LIMIT n) RETURNING`, ack a `DELETE`, cast a single `WITH … INSERT`. The same SQL is correct
 * on a real Postgres with many backends, where SKIP LOCKED is what keeps claimers apart.
 */

/** The schema, applied by the voting-db launcher (the store owns it, not its clients). */
export const PGLITE_QUEUE_SCHEMA = `
CREATE TABLE IF NOT EXISTS ballots (
  id bigserial PRIMARY KEY,
  body jsonb NOT NULL,
  claimed_by text,
  claimed_at timestamptz
);
CREATE INDEX IF NOT EXISTS ballots_unclaimed ON ballots (id) WHERE claimed_by IS NULL;
CREATE TABLE IF NOT EXISTS voters (
  voter_id text PRIMARY KEY,
  vote text NOT NULL,
  seq integer NOT NULL
);`;

const CAST_SQL = (onConflict: string) => `
WITH v AS (
  INSERT INTO voters (voter_id, vote, seq) VALUES ($1, $2, 1)
  ON CONFLICT (voter_id) ${onConflict}
  RETURNING seq
)
INSERT INTO ballots (body)
SELECT jsonb_build_object('voterId', $1::text, 'vote', $2::text, 'seq', v.seq, 'ts', $3::text) FROM v
RETURNING (body->>'seq')::int AS seq`;

const CAST_REPLACE = CAST_SQL('DO UPDATE SET vote = EXCLUDED.vote, seq = voters.seq + 1');
const CAST_ONCE = CAST_SQL('DO NOTHING');

const CLAIM = `
UPDATE ballots SET claimed_by = $1, claimed_at = clock_timestamp()
WHERE id IN (
  SELECT id FROM ballots WHERE claimed_by IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
)
RETURNING id, body`;

/** How often a waiting claim looks again: PGlite has no cross-client notifications to wait on. */
const CLAIM_POLL_MS = 50;

export class PgliteQueue implements VotingStore {
  private constructor(private readonly db: PgConnection) {}

  static async connect(at: HostPort, broken: (err: Error) => void = () => {}): Promise<PgliteQueue> {
    return new PgliteQueue(await PgConnection.connect(at, broken));
  }

  async push(ballot: Ballot): Promise<void> {
    await this.db.query('INSERT INTO ballots (body) VALUES ($1::jsonb)', [JSON.stringify(ballot)]);
  }

  async cast(
    voterId: string,
    vote: VoteOption,
    opts: { onePersonOneVote?: boolean } = {},
  ): Promise<CastResult> {
    const ts = new Date().toISOString();
    CastBallotSchema.parse({ voterId, vote, ts });
    const r = await this.db.query<{ seq: number }>(opts.onePersonOneVote ? CAST_ONCE : CAST_REPLACE, [
      voterId,
      vote,
      ts,
    ]);
    const row = r.rows[0];
    if (!row) return { ok: false, reason: 'already-voted', previous: await this.choiceOf(voterId) };
    return { ok: true, ballot: { voterId, vote, seq: row.seq, ts } };
  }

  async choiceOf(voterId: string): Promise<VoteOption | undefined> {
    const r = await this.db.query<{ vote: string }>('SELECT vote FROM voters WHERE voter_id = $1', [voterId]);
    const v = r.rows[0]?.vote;
    return isOption(v) ? v : undefined;
  }

  async claim(workerId: string, max: number, waitMs = 0): Promise<ClaimedBallot[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const r = await this.db.query<{ id: string; body: unknown }>(CLAIM, [workerId, max]);
      if (r.rows.length > 0 || Date.now() >= deadline) {
        return r.rows
          .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))
          .map((row) => ({ body: row.body, receipt: String(row.id) }));
      }
      await sleep(Math.min(CLAIM_POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  async ack(receipt: string): Promise<void> {
    if (!/^\d+$/.test(receipt))
      throw new Error(`bad receipt ${JSON.stringify(receipt)}: expected a ballot id`);
    await this.db.query('DELETE FROM ballots WHERE id = $1', [receipt]);
  }

  async requeueStale(olderThanMs: number): Promise<number> {
    const r = await this.db.query(
      `UPDATE ballots SET claimed_by = NULL, claimed_at = NULL
       WHERE claimed_by IS NOT NULL AND claimed_at < clock_timestamp() - $1 * interval '1 millisecond'`,
      [olderThanMs],
    );
    return r.rowCount ?? 0;
  }

  async size(): Promise<number> {
    const r = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ballots');
    return r.rows[0]?.n ?? 0;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
