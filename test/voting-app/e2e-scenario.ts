import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../support/voting-fleet.js';
import { until } from '../support/wait.js';
import { EventStream } from './event-stream.js';
import { Browser } from './http-client.js';

/**
 * The whole Voting App, six processes wired DIRECTLY to each other's addresses (the fabric's
 * agents go in between later: then each *_ADDR is an agent's local listener instead). Each
 * service gets its own loopback address, like the seed's VMs:
 *
 *   http-proxy .1 (aws-11)   worker .2 (aws-12)   voting-svc .3 (gcp-11)
 *   voting-db  .4 (gcp-12)   result-svc .5 (azr-11)   result-db .6 (azr-12)
 *
 * Clients are not told which store is behind an address: they probe.
 */
export interface Stores {
  name: string;
  /** Third octet's last part: 127.0.8.<base + n>. */
  base: number;
  votingDbKind: 'redis' | 'pglite';
  resultDbKind: 'postgres' | 'pglite';
  extraEnv?: Record<string, string>;
}

export function votingAppEndToEnd(s: Stores): void {
  const ip = (n: number) => `127.0.8.${s.base + n}`;
  const PROXY = `${ip(1)}:8000`;
  const VOTING_SVC = `${ip(3)}:8080`;
  const VOTING_ONCE = `${ip(3)}:8082`;
  const VOTING_DB = `${ip(4)}:6379`;
  const RESULT_SVC = `${ip(5)}:8081`;
  const RESULT_DB = `${ip(6)}:5432`;
  let fleet: Fleet;

  describe(`Voting App end to end (${s.name})`, () => {
    beforeAll(async () => {
      fleet = await Fleet.create();
      const vm = (n: number, port: number) => ({ TRELLIS_VM_ADDRESS: ip(n), PORT: String(port) });
      const [resultDb, votingDb] = await Promise.all([
        fleet.start('result-db', 'result-db', {
          ...vm(6, 5432),
          RESULT_DB_KIND: s.resultDbKind,
          RESULT_DB_UNSAFE_FAST: 'true',
          ...s.extraEnv,
        }),
        fleet.start('voting-db', 'voting-db', { ...vm(4, 6379), VOTING_DB_KIND: s.votingDbKind }),
      ]);
      await Promise.all([
        fleet.ready(resultDb, `http://${ip(6)}:5433/readyz`),
        fleet.ready(votingDb, `http://${ip(4)}:6380/readyz`),
      ]);
      const services = await Promise.all([
        fleet.start('worker', 'worker', {
          ...vm(2, 8090),
          VOTING_WORKER_ADDR: VOTING_DB,
          RESULT_WORKER_ADDR: RESULT_DB,
        }),
        fleet.start('voting-svc', 'voting-svc', { ...vm(3, 8080), VOTING_BACKEND_ADDR: VOTING_DB }),
        fleet.start('voting-svc-once', 'voting-svc', {
          ...vm(3, 8082),
          VOTING_BACKEND_ADDR: VOTING_DB,
          ONE_PERSON_ONE_VOTE: 'true',
        }),
        fleet.start('result-svc', 'result-svc', { ...vm(5, 8081), RESULT_BACKEND_ADDR: RESULT_DB }),
        fleet.start('http-proxy', 'http-proxy', {
          ...vm(1, 8000),
          VOTING_FRONTEND_ADDR: VOTING_SVC,
          RESULT_FRONTEND_ADDR: RESULT_SVC,
        }),
      ]);
      const urls = [
        `http://${ip(2)}:8090/readyz`,
        `http://${VOTING_SVC}/readyz`,
        `http://${VOTING_ONCE}/readyz`,
        `http://${RESULT_SVC}/readyz`,
        `http://${PROXY}/readyz`,
      ];
      await Promise.all(services.map((p, i) => fleet.ready(p, urls[i]!)));
    }, 90_000);

    afterAll(async () => {
      await fleet?.stopAll();
      await fleet?.cleanup();
    }, 60_000);

    it('serves / with links to both pages', async () => {
      const r = await new Browser(`http://${PROXY}`).get('/');
      expect(r.status).toBe(200);
      expect(r.body).toContain('href="/voting/vote"');
      expect(r.body).toContain('href="/voting/result"');
    });

    it('50 voters vote, 10 change their minds: the result converges to the exact counts, pushed live', async () => {
      await fiftyVotersTenChange(PROXY);
    }, 60_000);

    it('a stream opened later starts from a snapshot of the current tally', async () => {
      const stream = await EventStream.open(`http://${PROXY}/voting/result/events`);
      try {
        const first = await stream.next((e) => e.event === 'tally');
        expect(JSON.parse(first.data).total).toBe(50);
        // And a change after it is pushed.
        const b = new Browser(`http://${PROXY}`);
        expect((await b.vote('Mesos')).status).toBe(200);
        const pushed = await stream.next((e) => e.event === 'tally' && JSON.parse(e.data).total === 51);
        expect(JSON.parse(pushed.data)).toEqual({ Mesos: 21, Kubernetes: 30, total: 51 });
      } finally {
        stream.close();
      }
    }, 30_000);

    it('vote=Nomad through the proxy: 400 naming the allowed options', async () => {
      const r = await new Browser(`http://${PROXY}`).vote('Nomad', { accept: 'application/json' });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).error).toBe('vote must be one of Mesos, Kubernetes (got "Nomad")');
    });

    it('ONE_PERSON_ONE_VOTE=true: a second ballot is refused and not counted', async () => {
      const b = new Browser(`http://${VOTING_ONCE}`);
      expect((await b.vote('Mesos')).status).toBe(200);
      const again = await b.vote('Kubernetes', { accept: 'application/json' });
      expect(again.status).toBe(409);
      expect(JSON.parse(again.body).error).toBe(
        'You have already voted for Mesos: this poll allows one vote per person.',
      );
      const viewer = new Browser(`http://${PROXY}`);
      await until('the one vote to be counted', async () => {
        const r = JSON.parse((await viewer.get('/voting/result.json')).body);
        return r.total === 52 ? r : undefined;
      });
      expect(JSON.parse((await viewer.get('/voting/result.json')).body)).toEqual({
        Mesos: 22,
        Kubernetes: 30,
        total: 52,
      });
    });

    it('every service is ready, and all stop cleanly (exit 0) on SIGTERM', async () => {
      const r = await new Browser(`http://${PROXY}`).get('/readyz');
      expect(JSON.parse(r.body)).toEqual({
        service: 'http-proxy',
        ready: true,
        upstreams: { 'voting-frontend': 'ok', 'result-frontend': 'ok' },
      });
      const exits = await fleet.stopAll();
      for (const [name, how] of Object.entries(exits)) {
        expect({ name, ...how }).toEqual({ name, code: 0, signal: null });
      }
    }, 60_000);
  });
}

/**
 * The end-to-end check, through whatever serves http-proxy (wired directly or through
 * the fabric): 50 voters vote, 10 change their minds; /voting/result.json converges to the
 * exact counts, and an open result stream (one request, no polling) is pushed the final tally.
 * Expects an empty tally to start from.
 */
export async function fiftyVotersTenChange(proxy: string): Promise<void> {
  const stream = await EventStream.open(`http://${proxy}/voting/result/events`);
  try {
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const snapshot = await stream.next((e) => e.event === 'tally');
    expect(JSON.parse(snapshot.data)).toEqual({ Mesos: 0, Kubernetes: 0, total: 0 });

    const voters = Array.from({ length: 50 }, () => new Browser(`http://${proxy}`));
    // 30 for Mesos, 20 for Kubernetes, five at a time.
    for (let i = 0; i < voters.length; i += 5) {
      await Promise.all(
        voters.slice(i, i + 5).map(async (b, k) => {
          const r = await b.vote(i + k < 30 ? 'Mesos' : 'Kubernetes');
          expect(r.status).toBe(200);
        }),
      );
    }
    // Ten Mesos voters switch to Kubernetes: their new ballot replaces the old one.
    for (const b of voters.slice(0, 10)) {
      const r = await b.vote('Kubernetes');
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/Your current vote: <strong>Kubernetes<\/strong>/);
    }
    const expected = '{"Mesos":20,"Kubernetes":30,"total":50}';
    const viewer = new Browser(`http://${proxy}`);
    await until(`result.json = ${expected}`, async () => {
      const r = await viewer.get('/voting/result.json');
      return r.status === 200 && r.body.trim() === expected ? true : undefined;
    });
    expect(JSON.parse((await viewer.get('/voting/result.json')).body)).toEqual({
      Mesos: 20,
      Kubernetes: 30,
      total: 50,
    });

    // The open stream was pushed the final tally: one request, no polling.
    const last = await stream.next((e) => e.event === 'tally' && e.data === expected.trim());
    expect(JSON.parse(last.data)).toEqual({ Mesos: 20, Kubernetes: 30, total: 50 });
    expect(stream.requests).toBe(1);
    expect(stream.events.length).toBeGreaterThan(1);

    const page = await viewer.get('/voting/result');
    expect(page.status).toBe(200);
    expect(page.body).toContain("new EventSource('/voting/result/events')");
    expect(page.body).toMatch(/data-option="Mesos"[\s\S]*?40%[\s\S]*?20</);
    expect(page.body).toMatch(/data-option="Kubernetes"[\s\S]*?60%[\s\S]*?30</);
  } finally {
    stream.close();
  }
}
