import type { Ballot } from '../ballot.js';
import type { VoteOption } from '../config.js';

/**
 * voting-db's contract with its clients, implemented twice — on Redis (`RedisQueue`) and on
 * PGlite served over the Postgres wire (`PgliteQueue`) — and held to one conformance suite
 * (test/voting-app/ballot-queue.conformance.ts).
 *
 * Delivery is at-least-once: a claimed ballot stays in the store until its receipt is
 * acknowledged, and a claim that is never acknowledged (its worker died) is handed out again
 * by `requeueStale`. The worker's idempotent upsert makes the effect exactly-once.
 */
export interface BallotQueue {
  /** Appends a ballot to the queue. */
  push(ballot: Ballot): Promise<void>;
  /**
   * Takes up to `max` ballots, oldest first, and marks them claimed by `workerId`. No ballot
   * is handed to two claimers at once. With nothing queued it waits up to `waitMs` (default 0)
   * for a first one, then returns what it has — possibly nothing.
   */
  claim(workerId: string, max: number, waitMs?: number): Promise<ClaimedBallot[]>;
  /** Removes a claimed ballot for good; call it only once its effect is committed. */
  ack(receipt: string): Promise<void>;
  /** Returns claims older than `olderThanMs` to the queue; resolves to how many. */
  requeueStale(olderThanMs: number): Promise<number>;
  /** Ballots not yet acknowledged: queued plus claimed. */
  size(): Promise<number>;
  /** A round trip to the store (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ClaimedBallot {
  /** The item as stored; the worker validates it (it came over the network). */
  body: unknown;
  /** Opaque: what `ack` needs to remove exactly this item. */
  receipt: string;
}

export type CastResult =
  | { ok: true; ballot: Ballot }
  | { ok: false; reason: 'already-voted'; previous: VoteOption | undefined };

/**
 * What voting-svc needs: casting a ballot and reading a voter's current choice. `cast` is one
 * atomic step in the store — the voter's next seq, their current choice and the queued ballot
 * change together or not at all — so two voting-svc instances can serve the same voter, and
 * one-person-one-vote cannot be beaten by two concurrent requests.
 */
export interface VotingStore extends BallotQueue {
  cast(voterId: string, vote: VoteOption, opts?: { onePersonOneVote?: boolean }): Promise<CastResult>;
  choiceOf(voterId: string): Promise<VoteOption | undefined>;
}

/** The protocol behind a voting-backend address. */
export type VotingDbKind = 'redis' | 'pglite';
