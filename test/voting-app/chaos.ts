import { readFileSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS, type VoteOption } from '../../examples/voting-app/src/config.js';
import { parseHostPort } from '../../examples/voting-app/src/fabric-address.js';
import { connectVotingStore } from '../../examples/voting-app/src/queue/connect.js';
import { connectPg } from '../../examples/voting-app/src/queue/pg-connect.js';
import { TestFabric } from '../support/fabric.js';
import { seededRandom } from '../support/random.js';
import { Fleet } from '../support/voting-fleet.js';
import {
  agentEnv,
  startVotingAgent,
  VOTING_PROCESSORS,
  VOTING_VMS,
  type VotingService,
  type VotingVm,
  votingVm,
} from '../support/voting-vms.js';
import { until } from '../support/wait.js';
import { Browser } from './http-client.js';

/**
 * The Voting App chaos test (issue 5): the six services through the fabric — an orchestrator,
 * the four processors and six agents of examples/voting-app/fabric.yaml — under a load of
 * 2,500 ballots from 500 voters while, one after the other, kill -9 hits the worker, the
 * processor on the http-proxy → voting-svc path, the voting-svc agent, voting-db and
 * result-db, each restarted about a second later as a supervisor would. A voter whose request
 * fails retries the same choice until it is acknowledged (HTTP 200), so each voter's last
 * acknowledged choice is well defined; after recovery, result-db must hold exactly that for
 * every voter, and nothing else.
 *
 * Every service reaches the next only through its agent's listeners (the agent's env file,
 * re-read on reconnect through TRELLIS_ENV_FILE). Each processor and VM has its own address
 * in NET.0/24 (agents bind fixed ports per address, so two runs never share a /24):
 *
 *   processors  aws-p1 .1  aws-p2 .2  gcp-p1 .3  azr-p1 .4            (port 7500)
 *   VMs         aws-11 .11 http-proxy   aws-12 .12 worker   gcp-11 .13 voting-svc
 *               gcp-12 .14 voting-db    azr-11 .15 result-svc   azr-12 .16 result-db
 *
 * voting-db and result-db keep their data in a directory (VOTING_DB_DATA_DIR,
 * RESULT_DB_DATA_DIR) and are restarted on the same one. The services run in process groups
 * of their own, so a kill -9 takes a store launcher's redis-server or postgres with it, as the
 * lab's supervisor does.
 */
export interface ChaosStores {
  name: string;
  /** The first three octets of the run's addresses, e.g. `127.0.10`. */
  net: string;
  votingDbKind: 'redis' | 'pglite';
  resultDbKind: 'postgres' | 'pglite';
}

const VOTERS = 500;
const BALLOTS_PER_VOTER = 5;
/** Ballots in flight at once. */
const CONCURRENCY = 24;
/** First attempts per second: the load lasts ~40 s, long enough for the whole chaos schedule. */
const RATE = 60;
/** A ballot not acknowledged after this long fails the test (it would mean no recovery). */
const BALLOT_DEADLINE_MS = 60_000;
const PROCESSOR_PORT = 7500;
/** The processor on the http-proxy (aws-11, aws-p1) → voting-svc (gcp-11, gcp-p1) path. */
const PATH_PROCESSOR = 'gcp-p1';

const FABRIC = readFileSync(new URL('../../examples/voting-app/fabric.yaml', import.meta.url), 'utf8');

interface Voter {
  browser: Browser;
  plan: VoteOption[];
  id?: string;
  last?: VoteOption;
  lastSeq?: number;
  busy: Promise<void>;
}

interface ChaosEvent {
  what: string;
  /** Milliseconds since the load started. */
  killedAt: number;
  restartedAt: number;
  readyAt: number;
}

export function votingAppChaos(s: ChaosStores): void {
  const ip = (n: number) => `${s.net}.${n}`;
  /** A VM's address: .11-.16, after the processors' .1-.4. */
  const vmIp = (v: VotingVm) => ip(10 + v.n);
  const readyz = (service: VotingService) => {
    const v = votingVm(service);
    return `http://${vmIp(v)}:${v.readyPort}/readyz`;
  };
  const PROXY = `http://${vmIp(votingVm('http-proxy'))}:8000`;
  let f: TestFabric | undefined;
  let sup: Fleet | undefined;
  const envFiles = new Map<string, string>();
  /** Set when the run ends (or failed): voters stop retrying. */
  let stopped = false;

  /** Starts `service` with its VM, its port, the addresses its agent published and `extra`. */
  async function startService(service: VotingService, extra: Record<string, string> = {}): Promise<void> {
    const v = votingVm(service);
    const env = {
      LOG_LEVEL: 'info',
      ...(await agentEnv(f!, envFiles.get(v.vm)!)),
      TRELLIS_VM_ADDRESS: vmIp(v),
      PORT: String(v.port),
      ...extra,
    };
    await sup!.startReady(service, readyz(service), { service, env });
  }

  async function startAgent(v: VotingVm): Promise<void> {
    envFiles.set(v.vm, await startVotingAgent(f!, v, vmIp(v)));
    await until(`${v.vm}'s agent API`, async () => {
      const r = await fetch(`http://${vmIp(v)}:7401/healthz`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    });
  }

  describe(`Voting App chaos through the fabric (${s.name})`, () => {
    beforeAll(async () => {
      sup = await Fleet.create({ prefix: 'voting-chaos-', groups: true });
      const base = sup.dir;
      // Started as root, redis-server and postgres run as their own users: they must get
      // through this directory to their data directories.
      await chmod(base, 0o755);
      f = await TestFabric.start(FABRIC);
      for (const [i, p] of VOTING_PROCESSORS.entries()) await f.processor(p, ip(i + 1), PROCESSOR_PORT);
      await Promise.all(VOTING_VMS.map((v) => startAgent(v)));
      // Not through the fabric on purpose: their clients come next. They are restarted on the
      // same data directories.
      await startService('voting-db', {
        VOTING_DB_KIND: s.votingDbKind,
        VOTING_DB_DATA_DIR: join(base, 'voting-db'),
      });
      await startService('result-db', {
        RESULT_DB_KIND: s.resultDbKind,
        RESULT_DB_DATA_DIR: join(base, 'result-db'),
      });
      await Promise.all([
        // A claim left by a killed worker is handed out again after 5 s instead of 30.
        startService('worker', { WORKER_STALE_MS: '5000' }),
        startService('voting-svc'),
        startService('result-svc'),
      ]);
      await startService('http-proxy');
    }, 120_000);

    afterAll(async () => {
      stopped = true;
      try {
        await sup?.stopGroups();
      } finally {
        await f?.stop();
        await sup?.cleanup();
      }
    }, 60_000);

    it(`${VOTERS} voters, ${VOTERS * BALLOTS_PER_VOTER} ballots, kill -9 of worker, ${PATH_PROCESSOR}, voting-svc's agent, voting-db and result-db: every acknowledged ballot counted exactly once`, async () => {
      const fabric = f!;
      const services = sup!;
      // The processor killed below really is on the http-proxy → voting-svc path.
      const path = await fabric.admin.path('aws-p1', 'gcp-p1', 'voting-frontend', 'voting-app');
      expect(path.path).toContain(PATH_PROCESSOR);

      const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
      const rnd = seededRandom(seed);
      const voters: Voter[] = Array.from({ length: VOTERS }, () => ({
        browser: new Browser(PROXY),
        plan: Array.from({ length: BALLOTS_PER_VOTER }, () => OPTIONS[Math.floor(rnd() * OPTIONS.length)]!),
        busy: Promise.resolve(),
      }));
      const stats = {
        sent: 0,
        acknowledged: 0,
        retries: 0,
        pageLoads: 0,
        failures: {} as Record<string, number>,
      };
      const ackTimes: number[] = [];
      const t0 = Date.now();
      const at = () => Date.now() - t0;
      let loadDone = false;

      // Which kill came last, to tell which one each retry is due to.
      let phase = 'no kill yet';
      let queuedAtKill = -1;
      const byPhase: Record<string, Record<string, number>> = {};
      const failed = (why: string) => {
        stats.retries++;
        stats.failures[why] = (stats.failures[why] ?? 0) + 1;
        const p = byPhase[phase] ?? {};
        p[why] = (p[why] ?? 0) + 1;
        byPhase[phase] = p;
      };
      /** Ballots in voting-db (queued or claimed), looked at directly, as an operator would. */
      const queueSize = async () => {
        const v = votingVm('voting-db');
        const q = await connectVotingStore(parseHostPort(`${vmIp(v)}:${v.port}`), s.votingDbKind);
        try {
          return await q.size();
        } finally {
          await q.close();
        }
      };
      const retryDelay = (attempt: number) => Math.min(2_000, 100 * 2 ** attempt) * (0.5 + rnd() / 2);

      /** A browser opens the vote page first: that is where its voter cookie comes from. */
      async function openPage(v: Voter, deadline: number): Promise<void> {
        for (let attempt = 0; ; attempt++) {
          stats.pageLoads++;
          const r = await v.browser
            .get('/voting/vote', { accept: 'application/json' })
            .catch((e: Error) => e);
          const id = v.browser.cookies.get('voter_id');
          if (!(r instanceof Error) && r.status === 200 && id) {
            v.id = id;
            return;
          }
          failed(`page ${r instanceof Error ? ((r as NodeJS.ErrnoException).code ?? r.message) : r.status}`);
          if (Date.now() > deadline || stopped)
            throw new Error(`voter never got the vote page: ${String(r)}`);
          await sleep(retryDelay(attempt));
        }
      }

      /** One ballot, retried with the same choice until it is acknowledged. */
      async function cast(v: Voter, choice: VoteOption): Promise<void> {
        const deadline = Date.now() + BALLOT_DEADLINE_MS;
        if (!v.id) await openPage(v, deadline);
        for (let attempt = 0; ; attempt++) {
          stats.sent++;
          const r = await v.browser.vote(choice, { accept: 'application/json' }).catch((e: Error) => e);
          if (!(r instanceof Error) && r.status === 200) {
            const body = JSON.parse(r.body) as { vote: string; seq: number };
            expect(body.vote).toBe(choice);
            // The cookie never changes: every ballot of this browser is this voter's.
            expect(v.browser.cookies.get('voter_id')).toBe(v.id);
            v.last = choice;
            v.lastSeq = body.seq;
            stats.acknowledged++;
            ackTimes.push(at());
            return;
          }
          const why =
            r instanceof Error ? ((r as NodeJS.ErrnoException).code ?? r.message) : String(r.status);
          failed(why);
          if (Date.now() > deadline || stopped) {
            throw new Error(
              `a ballot for ${choice} from voter ${v.id} was not acknowledged in ${BALLOT_DEADLINE_MS} ms (last: ${why})`,
            );
          }
          await sleep(retryDelay(attempt));
        }
      }

      // Round-major order: every voter's first ballot, then every voter's second, …; a voter's
      // next ballot waits for the previous one to be acknowledged.
      const tasks: { v: Voter; k: number }[] = [];
      for (let k = 0; k < BALLOTS_PER_VOTER; k++) for (const v of voters) tasks.push({ v, k });
      let next = 0;
      let slot = Date.now();
      async function lane(): Promise<void> {
        while (next < tasks.length && !stopped) {
          const { v, k } = tasks[next++]!;
          const previous = v.busy;
          let release!: () => void;
          v.busy = new Promise((r) => {
            release = r;
          });
          try {
            await previous;
            slot = Math.max(slot + 1000 / RATE, Date.now());
            await sleep(slot - Date.now());
            await cast(v, v.plan[k]!);
          } finally {
            release();
          }
        }
      }
      const load = Promise.all(Array.from({ length: CONCURRENCY }, () => lane())).finally(() => {
        loadDone = true;
      });

      const events: ChaosEvent[] = [];
      async function chaos(): Promise<void> {
        const step = async (
          atMs: number,
          what: string,
          kill: () => Promise<void>,
          restart: () => Promise<void>,
        ) => {
          await sleep(Math.max(0, atMs - at()));
          const killedAt = at();
          phase = what;
          await kill();
          await sleep(1_000);
          const restartedAt = at();
          await restart();
          events.push({ what, killedAt, restartedAt, readyAt: at() });
        };
        // Started again as before: the same environment (stores: the same data directory).
        const restartStore = (name: 'worker' | 'voting-db' | 'result-db') =>
          services.startReady(name, readyz(name));
        await step(
          3_000,
          'worker',
          () => services.kill9('worker'),
          () => restartStore('worker'),
        );
        await step(
          8_000,
          PATH_PROCESSOR,
          async () => {
            fabric.kill(PATH_PROCESSOR);
            await fabric.waitFor(
              async () =>
                (await fabric.admin.nodes()).some(
                  (n) => n.name === PATH_PROCESSOR && n.status === 'disconnected',
                ),
              `${PATH_PROCESSOR} to be seen disconnected`,
              10_000,
            );
          },
          () =>
            fabric.processor(
              PATH_PROCESSOR,
              ip(VOTING_PROCESSORS.indexOf(PATH_PROCESSOR) + 1),
              PROCESSOR_PORT,
            ),
        );
        await step(
          14_000,
          "voting-svc's agent (gcp-11)",
          async () => {
            fabric.kill('gcp-11');
            await fabric.waitFor(
              async () =>
                (await fabric.admin.nodes()).some((n) => n.name === 'gcp-11' && n.status === 'disconnected'),
              'gcp-11 to be seen disconnected',
              10_000,
            );
          },
          () => startAgent(votingVm('voting-svc')),
        );
        // voting-db goes down while the worker is away too, so it holds ballots acknowledged to
        // voters but not yet moved to result-db: the ones its data directory must keep.
        await sleep(Math.max(0, 20_000 - at()));
        const workerKilledAt = at();
        phase = 'worker again';
        await services.kill9('worker');
        await sleep(1_000);
        const dbKilledAt = at();
        queuedAtKill = await queueSize();
        phase = 'voting-db';
        await services.kill9('voting-db');
        const workerRestartedAt = at();
        const workerBack = restartStore('worker').then(() => at());
        await sleep(1_000);
        const dbRestartedAt = at();
        await restartStore('voting-db');
        events.push({ what: 'voting-db', killedAt: dbKilledAt, restartedAt: dbRestartedAt, readyAt: at() });
        events.push({
          what: 'worker again',
          killedAt: workerKilledAt,
          restartedAt: workerRestartedAt,
          readyAt: await workerBack,
        });
        await step(
          27_000,
          'result-db',
          () => services.kill9('result-db'),
          () => restartStore('result-db'),
        );
      }
      await Promise.all([load, chaos()]);
      const loadMs = at();
      for (const e of events) expect(e.killedAt, `${e.what} was killed during the load`).toBeLessThan(loadMs);
      // voting-db went down holding acknowledged ballots the worker had not yet moved.
      expect(queuedAtKill).toBeGreaterThan(0);
      expect(loadDone).toBe(true);
      expect(stats.acknowledged).toBe(VOTERS * BALLOTS_PER_VOTER);

      // What result-db must end up with: each voter's last acknowledged choice.
      const expected = new Map(voters.map((v) => [v.id!, v.last!]));
      expect(expected.size).toBe(VOTERS);
      const tally = { Mesos: 0, Kubernetes: 0, total: 0 };
      for (const choice of expected.values()) {
        tally[choice]++;
        tally.total++;
      }

      // Recovery: voting-db's queue drains (looked at directly, as an operator would). The
      // worker acknowledges a ballot only once result-db has committed it, so from then on
      // result-db is final.
      const drainStart = at();
      let left = -1;
      await until(
        'the ballot queue to drain',
        async () => {
          left = await queueSize();
          return left === 0 ? true : undefined;
        },
        90_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; ballots left: ${left}`);
      });
      const drainMs = at() - drainStart;

      // Stronger than the tally: result-db holds each voter once, with their last acknowledged
      // choice, and nobody else.
      const rdb = votingVm('result-db');
      const db = await connectPg({ host: vmIp(rdb), port: rdb.port });
      let rows: { voter_id: string; vote: string; seq: number }[];
      try {
        rows = (
          await db.query<{ voter_id: string; vote: string; seq: number }>(
            'SELECT voter_id, vote, seq FROM votes',
          )
        ).rows;
      } finally {
        await db.end();
      }
      const byId = new Map(voters.map((v) => [v.id!, v]));
      const wrong = rows
        .filter((r) => expected.get(r.voter_id) !== r.vote)
        .map((r) => {
          const v = byId.get(r.voter_id);
          return v
            ? `${r.voter_id}: counted ${r.vote} (seq ${r.seq}), last acknowledged ${v.last} (seq ${v.lastSeq})`
            : `${r.voter_id}: counted ${r.vote} (seq ${r.seq}), not one of the voters`;
        });
      const counted = new Set(rows.map((r) => r.voter_id));
      const missing = [...expected.keys()]
        .filter((id) => !counted.has(id))
        .map(
          (id) => `${id}: last acknowledged ${expected.get(id)} (seq ${byId.get(id)!.lastSeq}), not counted`,
        );
      expect(
        { wrong: wrong.length, missing: missing.length, first: [...wrong, ...missing].slice(0, 10) },
        'voters counted wrongly or not at all',
      ).toEqual({ wrong: 0, missing: 0, first: [] });
      expect(rows.length).toBe(VOTERS);

      // And the result page, through the fabric, says so.
      const viewer = new Browser(PROXY);
      const final = await until('result.json through the fabric', async () => {
        const r = await viewer.get('/voting/result.json');
        return r.status === 200 ? JSON.parse(r.body) : undefined;
      });
      expect(final).toEqual(tally);

      let maxGap = 0;
      for (let i = 1; i < ackTimes.length; i++) maxGap = Math.max(maxGap, ackTimes[i]! - ackTimes[i - 1]!);
      const requeued = (await readFile(services.log('worker'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('requeued ballots'))
        .reduce((n, l) => n + ((JSON.parse(l) as { ballots?: number }).ballots ?? 0), 0);
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
      /**
       * The longest time without an acknowledged ballot from the kill to 5 s after the
       * restart (or to the next kill, if that comes first).
       */
      events.sort((a, b) => a.killedAt - b.killedAt);
      const outage = (e: ChaosEvent) => {
        const nextKill = events.find((x) => x.killedAt > e.killedAt)?.killedAt ?? Number.POSITIVE_INFINITY;
        const end = Math.min(e.readyAt + 5_000, nextKill);
        let gap = 0;
        for (let i = 1; i < ackTimes.length; i++) {
          if (ackTimes[i]! > e.killedAt && ackTimes[i - 1]! < end)
            gap = Math.max(gap, Math.min(ackTimes[i]!, end) - Math.max(ackTimes[i - 1]!, e.killedAt));
        }
        return gap;
      };
      const kills = events
        .map(
          (e) =>
            `${e.what} killed ${secs(e.killedAt)} restarted ${secs(e.restartedAt)} ready ${secs(e.readyAt)}, no ack for ${secs(outage(e))}`,
        )
        .join('; ');
      const failures = Object.entries(stats.failures)
        .map(([k, n]) => `${k}×${n}`)
        .join(' ');
      const starts = [...services.starts].map(([k, n]) => `${k}×${n}`).join(' ');
      const phases = Object.entries(byPhase)
        .map(
          ([k, whys]) =>
            `${k}: ${Object.entries(whys)
              .map(([why, n]) => `${why}×${n}`)
              .join(' ')}`,
        )
        .join(', ');
      console.log(
        `chaos (${s.name}, seed ${seed}): ${VOTERS} voters, ${stats.sent} ballots sent, ${stats.acknowledged} acknowledged, ` +
          `${stats.retries} retries (${failures || 'none'}; by the last kill before them: ${phases || 'none'}), ${stats.pageLoads} page loads, load ${(loadMs / 1000).toFixed(1)} s, ` +
          `longest gap between acks ${(maxGap / 1000).toFixed(1)} s, drain ${(drainMs / 1000).toFixed(1)} s, ` +
          `${requeued} stale claims requeued, ${queuedAtKill} ballots in voting-db when it was killed; final ${JSON.stringify(final)} = expected; kills: ${kills}; process starts: ${starts}`,
      );
    }, 180_000);
  });
}
