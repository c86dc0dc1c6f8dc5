/**
 * Voting App benchmark: votes/s through the fabric vs the same six services wired directly,
 * side by side in one run, and whether every acknowledged vote reached the result.
 *
 *   npm run build && npm run bench:voting [-- --seconds 30 --voters 1000 --concurrency 64]
 *
 *   --seconds N        measured load per setup (default 30), split over the rounds
 *   --rounds N         phases per setup, A and B in turn (default 3)
 *   --warmup N         seconds of load per setup before the first round (default 3)
 *   --settle N         seconds at the start of each phase that are not measured (default 1)
 *   --votes N          also stop a setup's load after N votes (default: no limit)
 *   --voters N         distinct voters, each with its own cookie (default 1000)
 *   --concurrency N    requests in flight (default 64; at most one per voter)
 *   --drain-timeout N  seconds to wait for the queue to drain after the load (default 60)
 *   --only direct|fabric
 *
 *   TRELLIS_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every node process it starts
 *   (services, orchestrator, processors, agents).
 *
 * Setup A (direct): the six services on 127.0.12.1-6, each *_ADDR naming the next service.
 * Setup B (fabric): an orchestrator, processors aws-p1 aws-p2 gcp-p1 azr-p1 with the links of
 * examples/voting-app/fabric.yaml (on 127.0.13.101-104), and six VMs on 127.0.13.1-6 as in
 * examples/voting-app/lab.yaml, each an agent plus its service, which gets only its agent's
 * env file (*_ADDR lines, and TRELLIS_ENV_FILE, as the lab passes them).
 *
 * Both setups run at once and are loaded in turn — warm-up A, warm-up B, then A, B, A, B…
 * for --rounds rounds — so that other work on the machine weighs on both alike.
 *
 * Load: the voters POST /voting/vote (Accept: application/json) to http-proxy through one
 * keep-alive pool; a voter's first ballot gets its voter_id cookie from voting-svc. Each voter
 * has at most one ballot in flight, so its last acknowledged ballot is its last choice. After
 * a setup's last phase the bench waits until its /voting/result.json (through http-proxy)
 * shows exactly the expected counts and its result-db holds, for every voter, the seq
 * voting-svc acknowledged last (read straight from result-db: the bench's own check, not part
 * of the app's traffic). A voter whose last acknowledged ballot never arrives there is lost.
 *
 * Also printed: CPU per process (and its children: redis-server, postgres) in the measured
 * windows, from /proc, and how busy the whole machine was — other work on it included.
 *
 * This file starts and stops the setups and runs the phases; the load is in voting-load.ts,
 * the /proc sampling in cpu-sample.ts, the check after the load in voting-verify.ts and the
 * printed comparison in voting-report.ts. The six VMs are test/support/voting-vms.ts's.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/cli.js';
import { TestFabric } from '../test/support/fabric.js';
import { Fleet, type Proc } from '../test/support/voting-fleet.js';
import {
  agentEnv,
  isStore,
  startVotingAgent,
  VOTING_PROCESSORS,
  VOTING_VMS,
  type VotingVm,
} from '../test/support/voting-vms.js';
import { descendants } from './cpu-sample.js';
import { deadline, percentile } from './support.js';
import { drive, Load, type Target } from './voting-load.js';
import { int, type Result, report } from './voting-report.js';
import { verify } from './voting-verify.js';

const args = process.argv.slice(2);
function arg(name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number (got ${args[i + 1]})`);
  return v;
}
const SECONDS = arg('seconds', 30);
const WARMUP = arg('warmup', 3);
const ROUNDS = Math.max(1, Math.round(arg('rounds', 3)));
const SETTLE = arg('settle', 1);
const MAX_VOTES = arg('votes', Number.POSITIVE_INFINITY);
const VOTERS = arg('voters', 1000);
const CONCURRENCY = arg('concurrency', 64);
const DRAIN_TIMEOUT = arg('drain-timeout', 60);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'direct' && only !== 'fabric')
  throw new Error(`--only direct|fabric (got ${only})`);
if (CONCURRENCY < 1 || CONCURRENCY > VOTERS)
  throw new Error(`--concurrency must be 1..voters (${VOTERS}): one ballot in flight per voter`);

// ---------------------------------------------------------------------------------------------
// Everything this bench starts is stopped on the way out: normal end, error, Ctrl-C, deadline.

const cleanups: (() => Promise<void>)[] = [];
const children = new Set<ChildProcess>();
let exiting = false;
const stopped = () => exiting;

async function shutdown(code: number, why?: string): Promise<never> {
  if (!exiting) {
    exiting = true;
    if (why) console.error(why);
    const force = setTimeout(() => {
      console.error('cleanup took over 60 s: killing what is left');
      process.exit(code || 1);
    }, 60_000);
    for (const c of cleanups.splice(0).reverse()) await c().catch((e: Error) => console.error(e.message));
    clearTimeout(force);
    process.exit(code);
  }
  return new Promise<never>(() => {});
}
process.on('SIGINT', () => void shutdown(130, '\ninterrupted: stopping every process…'));
process.on('SIGTERM', () => void shutdown(143, 'terminated: stopping every process…'));
// Last resort (process.exit from anywhere): nothing this bench started outlives it. Only
// children that have not exited (so their pids are still theirs), and their descendants.
process.on('exit', () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) continue;
    for (const pid of [...descendants(c.pid), c.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The two setups: both are started, then driven in turn.

interface Setup extends Target {
  name: 'direct' | 'through the fabric';
  resultDb: { host: string; port: number };
  fleet: Fleet;
}

/** Things to stop at the end, newest first; `stop` runs once. */
function onCleanup(stop: () => Promise<void>): void {
  let done = false;
  cleanups.push(async () => {
    if (done) return;
    done = true;
    await stop();
  });
}

async function startServices(
  ip: (n: number) => string,
  envOf: (vm: VotingVm) => Promise<Record<string, string>>,
  pids: Map<string, number>,
): Promise<Fleet> {
  const fleet = await Fleet.create();
  onCleanup(async () => {
    await fleet.stopAll();
    await fleet.cleanup();
  });
  const start = async (vm: VotingVm): Promise<[Proc, VotingVm]> => {
    const p = await fleet.start(vm.service, vm.service, {
      // The lab's log level (info), not Fleet's debug: what a deployment would log.
      LOG_LEVEL: 'info',
      TRELLIS_VM_ADDRESS: ip(vm.n),
      PORT: String(vm.port),
      ...(await envOf(vm)),
    });
    children.add(p.child);
    pids.set(vm.service, p.child.pid!);
    return [p, vm];
  };
  const ready = ([p, vm]: [Proc, VotingVm]) =>
    fleet.ready(p, `http://${ip(vm.n)}:${vm.readyPort}/readyz`, 60_000);
  // Stores first (their clients would only retry meanwhile), then the rest.
  const stores = await Promise.all(VOTING_VMS.filter(isStore).map(start));
  await Promise.all(stores.map(ready));
  const rest = await Promise.all(VOTING_VMS.filter((v) => !isStore(v)).map(start));
  await Promise.all(rest.map(ready));
  return fleet;
}

function setup(
  name: Setup['name'],
  ip: (n: number) => string,
  fleet: Fleet,
  pids: Map<string, number>,
): Setup {
  const load = new Load(VOTERS, CONCURRENCY, MAX_VOTES);
  onCleanup(async () => load.agent.destroy());
  return {
    name,
    proxy: { host: ip(1), port: 8000 },
    resultDb: { host: ip(6), port: 5432 },
    fleet,
    pids,
    load,
  };
}

async function startDirect(): Promise<Setup> {
  const ip = (n: number) => `127.0.12.${n}`;
  const byService = new Map(VOTING_VMS.map((v) => [v.service, v]));
  process.stderr.write('direct: the six services on 127.0.12.1-6…\n');
  const pids = new Map<string, number>();
  const fleet = await startServices(
    ip,
    async (vm) =>
      Object.fromEntries(
        Object.entries(vm.upstreams).map(([k, s]) => {
          const up = byService.get(s)!;
          return [k, `${ip(up.n)}:${up.port}`];
        }),
      ),
    pids,
  );
  return setup('direct', ip, fleet, pids);
}

async function startFabric(): Promise<Setup> {
  const ip = (n: number) => `127.0.13.${n}`;
  process.stderr.write('fabric: orchestrator, 4 processors, 6 agents on 127.0.13.x…\n');
  const fabricYaml = await readFile(join(REPO_ROOT, 'examples', 'voting-app', 'fabric.yaml'), 'utf8');
  const f = await TestFabric.start(fabricYaml);
  const track = () => {
    children.add(f.orch.child);
    for (const c of f.children.values()) children.add(c);
  };
  track();
  onCleanup(async () => {
    track();
    await f.stop();
    await rm(f.env.TRELLIS_HOME!, { recursive: true, force: true });
  });
  await Promise.all(VOTING_PROCESSORS.map((p, i) => f.processor(p, ip(101 + i), 7501 + i)));
  track();
  const envFiles = new Map<string, string>();
  await Promise.all(
    VOTING_VMS.map(async (vm) => {
      envFiles.set(vm.vm, await startVotingAgent(f, vm, ip(vm.n)));
    }),
  );
  track();
  // Every client listener published (the agents learn of each other within ~1 s).
  for (const vm of VOTING_VMS) {
    await f.waitFor(
      async () => {
        const env = await f.envOf(envFiles.get(vm.vm)!);
        return Object.keys(vm.upstreams).every((k) => env[k]);
      },
      `${vm.vm}: ${Object.keys(vm.upstreams).join(', ')} in its env file`,
    );
  }
  const pids = new Map<string, number>([['orchestrator', f.orch.child.pid!]]);
  for (const [name, c] of f.children)
    pids.set(`${name} ${VOTING_PROCESSORS.includes(name) ? 'processor' : 'agent'}`, c.pid!);
  process.stderr.write('fabric: the six services, each with its agent’s env file…\n');
  const fleet = await startServices(ip, (vm) => agentEnv(f, envFiles.get(vm.vm)!), pids);
  return setup('through the fabric', ip, fleet, pids);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const budget = WARMUP * 2 + (SECONDS + SETTLE * ROUNDS) * 2 + DRAIN_TIMEOUT * 2 + 600;
  const results = await deadline(
    (async () => {
      const setups: Setup[] = [];
      if (only !== 'fabric') setups.push(await startDirect());
      if (only !== 'direct') setups.push(await startFabric());
      for (const s of setups) {
        process.stderr.write(`${s.name}: warm-up, ${WARMUP} s…\n`);
        await drive(s, WARMUP, 0, stopped);
      }
      // In turn, so that whatever else the machine is doing weighs on both alike. Each setup's
      // queue is checked right after its last phase, so its drain time is its own.
      const out: Result[] = [];
      for (let round = 1; round <= ROUNDS && !exiting; round++) {
        for (const s of setups) {
          await drive(s, SETTLE, SECONDS / ROUNDS, stopped);
          const L = s.load;
          process.stderr.write(
            `round ${round}/${ROUNDS}, ${s.name}: ${int(L.measuredAcks / L.measuredSeconds)} votes/s so far\n`,
          );
          if (round < ROUNDS) continue;
          process.stderr.write(
            `${s.name}: ${int(L.acked)} votes acknowledged; waiting for the queue to drain…\n`,
          );
          const verdict = await verify(s, DRAIN_TIMEOUT, stopped);
          if (verdict.drainSeconds === undefined)
            for (const p of s.fleet.procs)
              process.stderr.write(`--- ${s.name}: ${p.name} log ---\n${await s.fleet.tail(p, 15)}\n`);
          const lat = L.latencies.sort((x, y) => x - y);
          out.push({
            setup: s,
            rate: L.measuredAcks / L.measuredSeconds,
            p50: percentile(lat, 50),
            p99: percentile(lat, 99),
            verdict,
          });
        }
      }
      return out;
    })(),
    budget * 1000,
    'bench/voting',
  );
  if (exiting) return;
  process.stderr.write('stopping every process…\n');
  for (const c of cleanups.splice(0).reverse()) await c().catch((e: Error) => console.error(e.message));
  report(results, {
    voters: VOTERS,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    rounds: ROUNDS,
    warmup: WARMUP,
    settle: SETTLE,
    drainTimeout: DRAIN_TIMEOUT,
  });
  const bad = results.some((r) => r.verdict.lost !== 0 || r.verdict.wrong !== 0);
  await shutdown(bad ? 1 : 0);
}

main().catch((err: Error) => shutdown(1, err.stack ?? err.message));
