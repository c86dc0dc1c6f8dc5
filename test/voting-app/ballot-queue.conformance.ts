import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Ballot, parseBallot } from '../../examples/voting-app/src/ballot.js';
import type { VotingStore } from '../../examples/voting-app/src/queue/ballot-queue.js';

/**
 * The one suite both BallotQueue implementations must pass (hono runs all its routers through
 * one shared suite the same way). `fresh()` gives an empty queue namespace and a way to open
 * any number of clients on it — separate connections, as separate workers would have.
 */
export interface QueueTarget {
  name: string;
  fresh(): Promise<{ connect(): Promise<VotingStore> }>;
}

let n = 0;
export function voter(): string {
  n += 1;
  return `${process.pid.toString(16)}${n.toString(16)}`.padStart(32, '0').slice(-32);
}

export function ballot(over: Partial<Ballot> = {}): Ballot {
  return { voterId: voter(), vote: 'Mesos', seq: 1, ts: new Date().toISOString(), ...over };
}

async function withClients<T>(
  target: QueueTarget,
  count: number,
  f: (clients: VotingStore[]) => Promise<T>,
): Promise<T> {
  const ns = await target.fresh();
  const clients = await Promise.all(Array.from({ length: count }, () => ns.connect()));
  try {
    return await f(clients);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

export function ballotQueueConformance(target: QueueTarget): void {
  describe(`BallotQueue conformance: ${target.name}`, () => {
    it('a pushed ballot is claimed with a receipt and stays counted until acknowledged', () =>
      withClients(target, 1, async ([q]) => {
        const b = ballot();
        await q!.push(b);
        expect(await q!.size()).toBe(1);
        const [item, ...rest] = await q!.claim('w1', 10);
        expect(rest).toEqual([]);
        expect(item!.body).toEqual(b);
        expect(typeof item!.receipt).toBe('string');
        expect(await q!.size()).toBe(1);
        await q!.ack(item!.receipt);
        expect(await q!.size()).toBe(0);
      }));

    it('hands ballots out oldest first, at most `max` at a time', () =>
      withClients(target, 1, async ([q]) => {
        const bs = Array.from({ length: 5 }, (_, i) => ballot({ seq: i + 1 }));
        for (const b of bs) await q!.push(b);
        const first = await q!.claim('w1', 3);
        expect(first.map((c) => c.body)).toEqual(bs.slice(0, 3));
        const second = await q!.claim('w1', 3);
        expect(second.map((c) => c.body)).toEqual(bs.slice(3));
      }));

    it('never hands a claimed ballot out again while its claim is fresh', () =>
      withClients(target, 2, async ([a, b]) => {
        await a!.push(ballot());
        expect(await a!.claim('w1', 10)).toHaveLength(1);
        expect(await b!.claim('w2', 10)).toEqual([]);
        expect(await b!.requeueStale(60_000)).toBe(0);
        expect(await b!.claim('w2', 10)).toEqual([]);
      }));

    it('two equal ballots are two items, and an ack removes exactly one', () =>
      withClients(target, 1, async ([q]) => {
        const b = ballot();
        await q!.push(b);
        await q!.push(b);
        const items = await q!.claim('w1', 10);
        expect(items).toHaveLength(2);
        expect(items[0]!.receipt).not.toBe(items[1]!.receipt);
        await q!.ack(items[0]!.receipt);
        expect(await q!.size()).toBe(1);
        await q!.ack(items[0]!.receipt); // again: harmless
        expect(await q!.size()).toBe(1);
        await q!.ack(items[1]!.receipt);
        expect(await q!.size()).toBe(0);
      }));

    it('an empty claim waits about waitMs, and a ballot pushed meanwhile ends the wait', () =>
      withClients(target, 2, async ([a, b]) => {
        let t0 = Date.now();
        expect(await a!.claim('w1', 5, 300)).toEqual([]);
        const waited = Date.now() - t0;
        expect(waited).toBeGreaterThanOrEqual(250);
        expect(waited).toBeLessThan(2_000);

        t0 = Date.now();
        const pending = a!.claim('w1', 5, 5_000);
        await sleep(100);
        const bl = ballot();
        await b!.push(bl);
        const got = await pending;
        expect(got.map((c) => c.body)).toEqual([bl]);
        expect(Date.now() - t0).toBeLessThan(3_000);
      }));

    it('requeueStale returns only claims older than the threshold, and they can be claimed again', () =>
      withClients(target, 2, async ([a, b]) => {
        const bs = [ballot(), ballot()];
        for (const x of bs) await a!.push(x);
        const claimed = await a!.claim('crashed-worker', 10);
        expect(claimed).toHaveLength(2);
        expect(await b!.requeueStale(60_000)).toBe(0);
        await sleep(60);
        expect(await b!.requeueStale(20)).toBe(2);
        expect(await b!.requeueStale(20)).toBe(0);
        const again = await b!.claim('w2', 10);
        expect(again.map((c) => c.body)).toEqual(bs);
        expect(await b!.size()).toBe(2);
        for (const c of again) await b!.ack(c.receipt);
        expect(await b!.size()).toBe(0);
      }));

    it('a worker that disappears without acknowledging loses nothing', () =>
      withClients(target, 1, async ([survivor]) => {
        const ns = await target.fresh();
        const doomed = await ns.connect();
        const other = await ns.connect();
        try {
          const bs = [ballot(), ballot(), ballot()];
          for (const x of bs) await doomed.push(x);
          expect(await doomed.claim('doomed', 2)).toHaveLength(2);
          await doomed.close();
          expect(await other.size()).toBe(3);
          await sleep(30);
          expect(await other.requeueStale(10)).toBe(2);
          const all = await other.claim('w2', 10);
          expect(all.map((c) => c.body)).toEqual(expect.arrayContaining(bs));
          expect(all).toHaveLength(3);
        } finally {
          await other.close();
        }
        void survivor;
      }));

    it('cast numbers each voter’s ballots 1, 2, 3… and remembers their latest choice', () =>
      withClients(target, 1, async ([q]) => {
        const alice = voter();
        const bob = voter();
        const r1 = await q!.cast(alice, 'Mesos');
        const r2 = await q!.cast(alice, 'Kubernetes');
        const r3 = await q!.cast(bob, 'Kubernetes');
        const r4 = await q!.cast(alice, 'Mesos');
        expect([r1, r2, r3, r4].map((r) => (r.ok ? r.ballot.seq : -1))).toEqual([1, 2, 1, 3]);
        expect(await q!.choiceOf(alice)).toBe('Mesos');
        expect(await q!.choiceOf(bob)).toBe('Kubernetes');
        expect(await q!.choiceOf(voter())).toBeUndefined();
        const items = await q!.claim('w1', 10);
        expect(items).toHaveLength(4);
        for (const item of items) expect(parseBallot(item.body).ok).toBe(true);
        expect(items.map((i) => (i.body as Ballot).seq)).toEqual([1, 2, 1, 3]);
      }));

    it('with one-person-one-vote a second ballot is refused, names the first choice and queues nothing', () =>
      withClients(target, 1, async ([q]) => {
        const v = voter();
        const first = await q!.cast(v, 'Kubernetes', { onePersonOneVote: true });
        expect(first.ok).toBe(true);
        const second = await q!.cast(v, 'Mesos', { onePersonOneVote: true });
        expect(second).toEqual({ ok: false, reason: 'already-voted', previous: 'Kubernetes' });
        expect(await q!.choiceOf(v)).toBe('Kubernetes');
        expect(await q!.size()).toBe(1);
      }));

    it('cast is atomic: concurrent ballots of one voter from several clients get distinct seqs', () =>
      withClients(target, 4, async (clients) => {
        const v = voter();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            clients[i % clients.length]!.cast(v, i % 2 ? 'Mesos' : 'Kubernetes'),
          ),
        );
        const seqs = results.map((r) => (r.ok ? r.ballot.seq : 0)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(await clients[0]!.size()).toBe(20);
      }));

    it('one-person-one-vote holds under concurrency: exactly one of many simultaneous ballots counts', () =>
      withClients(target, 4, async (clients) => {
        const v = voter();
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            clients[i % clients.length]!.cast(v, 'Mesos', { onePersonOneVote: true }),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(await clients[0]!.size()).toBe(1);
      }));

    it('concurrent claimers on separate connections never get the same ballot, and none is lost', () =>
      withClients(target, 6, async (clients) => {
        const producers = clients.slice(0, 2);
        const claimers = clients.slice(2);
        const total = 300;
        const pushed: Ballot[] = Array.from({ length: total }, () => ballot());
        // Producers keep pushing while the claimers are already at work.
        const producing = Promise.all(
          producers.map(async (p, k) => {
            for (let i = k; i < total; i += producers.length) await p.push(pushed[i]!);
          }),
        );
        const seen = new Map<string, string>();
        const duplicates: string[] = [];
        let done = false;
        void producing.then(() => {
          done = true;
        });
        await Promise.all(
          claimers.map(async (c, k) => {
            const me = `claimer-${k}`;
            for (;;) {
              const items = await c.claim(me, 7, 100);
              if (items.length === 0 && done && seen.size >= total) return;
              if (items.length === 0 && done && (await c.size()) === 0) return;
              for (const item of items) {
                const id = (item.body as Ballot).voterId;
                if (seen.has(id)) duplicates.push(`${id} to ${seen.get(id)} and ${me}`);
                seen.set(id, me);
                await c.ack(item.receipt);
              }
            }
          }),
        );
        await producing;
        expect(duplicates).toEqual([]);
        expect(seen.size).toBe(total);
        expect(new Set(pushed.map((b) => b.voterId))).toEqual(new Set(seen.keys()));
        // Work was actually shared, so the test exercised concurrent claims.
        expect(new Set(seen.values()).size).toBeGreaterThan(1);
        expect(await clients[0]!.size()).toBe(0);
      }));
  });
}
