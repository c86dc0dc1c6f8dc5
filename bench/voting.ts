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
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { REPO_ROOT } from '../test/support/cli.js';
import { TestFabric } from '../test/support/fabric.js';
import { seededRandom } from '../test/support/random.js';
import { Fleet, type Proc } from '../test/support/voting-fleet.js';
import { cpuSeconds, deadline, percentile, sleep } from './support.js';

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

/** A vote with no answer after this long is an error (a ballot of unknown fate). */
const REQUEST_TIMEOUT_MS = 30_000;
const GOAL_VOTES_PER_S = 1000;

/** The six VMs of examples/voting-app/lab.yaml: service, port, processor, contracts served. */
interface Vm {
  vm: string;
  service: 'http-proxy' | 'worker' | 'voting-svc' | 'voting-db' | 'result-svc' | 'result-db';
  n: number;
  port: number;
  /** /readyz: the service's port, or the store launcher's health port. */
  readyPort: number;
  processor: string;
  serve: string[];
  /** Direct wiring: *_ADDR → the VM number whose service it names. */
  upstreams: Record<string, Vm['service']>;
}
const VMS: Vm[] = [
  {
    vm: 'aws-11',
    service: 'http-proxy',
    n: 1,
    port: 8000,
    readyPort: 8000,
    processor: 'aws-p1',
    serve: [],
    upstreams: { VOTING_FRONTEND_ADDR: 'voting-svc', RESULT_FRONTEND_ADDR: 'result-svc' },
  },
  {
    vm: 'aws-12',
    service: 'worker',
    n: 2,
    port: 8090,
    readyPort: 8090,
    processor: 'aws-p1',
    serve: [],
    upstreams: { VOTING_WORKER_ADDR: 'voting-db', RESULT_WORKER_ADDR: 'result-db' },
  },
  {
    vm: 'gcp-11',
    service: 'voting-svc',
    n: 3,
    port: 8080,
    readyPort: 8080,
    processor: 'gcp-p1',
    serve: ['voting-frontend'],
    upstreams: { VOTING_BACKEND_ADDR: 'voting-db' },
  },
  {
    vm: 'gcp-12',
    service: 'voting-db',
    n: 4,
    port: 6379,
    readyPort: 6380,
    processor: 'gcp-p1',
    serve: ['voting-backend', 'voting-worker'],
    upstreams: {},
  },
  {
    vm: 'azr-11',
    service: 'result-svc',
    n: 5,
    port: 8081,
    readyPort: 8081,
    processor: 'azr-p1',
    serve: ['result-frontend'],
    upstreams: { RESULT_BACKEND_ADDR: 'result-db' },
  },
  {
    vm: 'azr-12',
    service: 'result-db',
    n: 6,
    port: 5432,
    readyPort: 5433,
    processor: 'azr-p1',
    serve: ['result-backend', 'result-worker'],
    upstreams: {},
  },
];
const STORES = new Set<Vm['service']>(['voting-db', 'result-db']);
const PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];

// ---------------------------------------------------------------------------------------------
// Everything this bench starts is stopped on the way out: normal end, error, Ctrl-C, deadline.

const cleanups: (() => Promise<void>)[] = [];
const children = new Set<ChildProcess>();
let exiting = false;

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

/** Child pids of `pid`, recursively (Linux /proc; empty elsewhere). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {}
    for (const c of text.split(' ').filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Busy and total CPU seconds of the whole machine so far (Linux /proc/stat; NaN elsewhere). */
function machineCpu(): { busy: number; total: number } {
  try {
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: (total - f[3]! - f[4]!) / 100, total: total / 100 };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** CPU seconds used so far by each labelled process and its descendants (by command name). */
function cpuSnapshot(procs: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const add = (label: string, s: number) => {
    if (Number.isFinite(s)) out.set(label, (out.get(label) ?? 0) + s);
  };
  for (const [label, pid] of procs) {
    add(label, cpuSeconds(pid));
    for (const d of descendants(pid)) add(`${label}/${comm(d)}`, cpuSeconds(d));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The load: voters posting ballots through http-proxy.

type Option = 'Mesos' | 'Kubernetes';
interface Voter {
  cookie?: string;
  id?: string;
  /** Last acknowledged ballot: its choice and the seq voting-svc gave it. */
  choice?: Option;
  seq: number;
  /** A ballot whose fate is unknown (no answer, an error): it may or may not be counted. */
  uncertain: boolean;
}

function postVote(
  agent: http.Agent,
  target: { host: string; port: number },
  voter: Voter,
  vote: Option,
): Promise<{ status: number; seq?: number; error?: string }> {
  const body = `vote=${vote}`;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        method: 'POST',
        path: '/voting/vote',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
          ...(voter.cookie && { cookie: voter.cookie }),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('error', (e) => resolve({ status: 0, error: e.message }));
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const pair = c.split(';')[0]!;
            if (pair.startsWith('voter_id=')) {
              voter.cookie = pair;
              voter.id = pair.slice('voter_id='.length);
            }
          }
          const status = res.statusCode ?? 0;
          if (status !== 200)
            return resolve({ status, error: `HTTP ${status} ${text.trim().slice(0, 120)}` });
          try {
            resolve({ status, seq: (JSON.parse(text) as { seq: number }).seq });
          } catch {
            resolve({ status: 0, error: `unreadable answer ${text.slice(0, 80)}` });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, error: e.code ?? e.message }));
    req.end(body);
  });
}

/** One setup's voters and what has been measured on it so far, across its phases. */
class Load {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, scheduling: 'fifo' });
  readonly voters: Voter[] = Array.from({ length: VOTERS }, () => ({ seq: 0, uncertain: false }));
  /**
   * Voters not voting right now, in turn: each request takes the next one, so no voter ever has
   * two ballots in flight (their order at voting-db would then be unknown).
   */
  readonly idle = this.voters.map((_, i) => i);
  readonly random = seededRandom(7420);
  readonly errors = new Map<string, number>();
  readonly latencies: number[] = [];
  started = 0;
  acked = 0;
  lastAckAt = 0;
  /** Acknowledgements that arrived inside measured windows, and the windows' length. */
  measuredAcks = 0;
  measuredSeconds = 0;
  generatorCpu = 0;
  /** CPU seconds per process, and of the whole machine, inside measured windows. */
  readonly cpu = new Map<string, number>();
  readonly machine = { busy: 0, total: 0 };
}

/**
 * Drives a setup's voters for `settle` + `seconds`: the first `settle` seconds are not measured
 * (connections the servers closed while the other setup ran are reopened then). Measured:
 * acknowledgements that arrive inside the window, latency of the requests sent inside it, and
 * the CPU of every process of the setup, of the bench and of the machine.
 */
async function drive(s: Setup, settle: number, seconds: number): Promise<void> {
  const L = s.load;
  const measuring = seconds > 0;
  const t0 = performance.now();
  const from = t0 + settle * 1000;
  const to = from + seconds * 1000;
  let cpu0 = new Map<string, number>();
  let machine0 = machineCpu();
  let gen0 = process.cpuUsage();
  let windowOpen = false;
  const openWindow = () => {
    windowOpen = true;
    cpu0 = cpuSnapshot(s.pids);
    machine0 = machineCpu();
    gen0 = process.cpuUsage();
  };
  const closeWindow = (at: number) => {
    if (!windowOpen) return;
    windowOpen = false;
    L.measuredSeconds += (at - from) / 1000;
    for (const [k, v] of cpuSnapshot(s.pids)) L.cpu.set(k, (L.cpu.get(k) ?? 0) + v - (cpu0.get(k) ?? 0));
    const m = machineCpu();
    L.machine.busy += m.busy - machine0.busy;
    L.machine.total += m.total - machine0.total;
    const g = process.cpuUsage(gen0);
    L.generatorCpu += (g.user + g.system) / 1e6;
  };
  const timers = measuring
    ? [setTimeout(openWindow, settle * 1000), setTimeout(() => closeWindow(to), (settle + seconds) * 1000)]
    : [];
  const worker = async () => {
    while (performance.now() < to && L.started < MAX_VOTES && !exiting) {
      L.started++;
      const v = L.idle.shift()!;
      const voter = L.voters[v]!;
      const vote: Option = L.random() < 0.45 ? 'Mesos' : 'Kubernetes';
      const sent = performance.now();
      const r = await postVote(L.agent, s.proxy, voter, vote);
      const done = performance.now();
      if (r.seq !== undefined) {
        L.acked++;
        L.lastAckAt = done;
        // Answers to one voter arrive in order (one in flight), so the last is the highest seq.
        voter.choice = vote;
        voter.seq = r.seq;
        if (measuring && done >= from && done <= to) L.measuredAcks++;
      } else {
        voter.uncertain = true;
        const key = r.error ?? `HTTP ${r.status}`;
        L.errors.set(key, (L.errors.get(key) ?? 0) + 1);
      }
      if (measuring && sent >= from && sent <= to) L.latencies.push(done - sent);
      L.idle.push(v);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (const t of timers) clearTimeout(t);
  // Stopped before the window's end (--votes, Ctrl-C): the window ends here.
  closeWindow(Math.min(performance.now(), to));
}

// ---------------------------------------------------------------------------------------------
// After the load: has every acknowledged ballot reached result.json and result-db?

interface Tally {
  Mesos: number;
  Kubernetes: number;
  total: number;
}

interface Verdict {
  tally: Tally | undefined;
  expected: Tally;
  /** Voters whose last acknowledged ballot is not in result-db (missing row, or an older seq). */
  lost: number;
  /** Rows whose seq matches but whose vote does not: would be a bug. */
  wrong: number;
  /** Rows the bench has no acknowledged ballot for (a request that failed, applied anyway). */
  extra: number;
  uncertainVoters: number;
  /** Seconds from the last acknowledgement until both checks passed; undefined if they never did. */
  drainSeconds: number | undefined;
}

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
  });
}

async function compareWithResultDb(
  resultDb: { host: string; port: number },
  voters: Voter[],
): Promise<{ lost: number; wrong: number; extra: number }> {
  const client = new pg.Client({
    ...resultDb,
    user: 'postgres',
    database: 'postgres',
    query_timeout: 10_000,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ voter_id: string; vote: string; seq: number }>(
      'SELECT voter_id, vote, seq FROM votes',
    );
    const stored = new Map(rows.map((r) => [r.voter_id, r]));
    let lost = 0;
    let wrong = 0;
    const mine = new Set<string>();
    for (const v of voters) {
      if (v.id) mine.add(v.id);
      if (v.seq === 0) continue;
      const row = stored.get(v.id!);
      if (!row || row.seq < v.seq) lost++;
      else if (row.seq === v.seq && row.vote !== v.choice) wrong++;
      else if (row.seq > v.seq && !v.uncertain) wrong++;
    }
    return { lost, wrong, extra: rows.filter((r) => !mine.has(r.voter_id)).length };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Waits until /voting/result.json (through http-proxy) shows the expected counts and result-db
 * holds every voter's last acknowledged ballot, or DRAIN_TIMEOUT passes.
 */
async function verify(s: Setup): Promise<Verdict> {
  const voters = s.load.voters;
  const expected: Tally = { Mesos: 0, Kubernetes: 0, total: 0 };
  for (const v of voters) {
    if (!v.choice) continue;
    expected[v.choice]++;
    expected.total++;
  }
  const uncertainVoters = voters.filter((v) => v.uncertain).length;
  // With ballots of unknown fate the counts may legitimately differ: then result-db decides,
  // once result.json has stopped changing.
  const countsMatch = (t: Tally) =>
    uncertainVoters > 0 ||
    (t.Mesos === expected.Mesos && t.Kubernetes === expected.Kubernetes && t.total === expected.total);
  const end = performance.now() + DRAIN_TIMEOUT * 1000;
  const url = `http://${s.proxy.host}:${s.proxy.port}/voting/result.json`;
  let tally: Tally | undefined;
  let db = { lost: Number.NaN, wrong: Number.NaN, extra: Number.NaN };
  let stableSince = performance.now();
  while (!exiting) {
    const t = await getJson<Tally>(url).catch(() => undefined);
    if (t && JSON.stringify(t) !== JSON.stringify(tally)) stableSince = performance.now();
    tally = t ?? tally;
    if (tally && countsMatch(tally)) {
      db = await compareWithResultDb(s.resultDb, voters).catch(() => db);
      if (db.lost === 0 && (uncertainVoters === 0 || performance.now() - stableSince > 3_000)) {
        const drainSeconds = (performance.now() - s.load.lastAckAt) / 1000;
        return { tally, expected, ...db, uncertainVoters, drainSeconds };
      }
    }
    if (performance.now() > end) break;
    await sleep(200);
  }
  db = await compareWithResultDb(s.resultDb, voters).catch(() => db);
  return { tally, expected, ...db, uncertainVoters, drainSeconds: undefined };
}

// ---------------------------------------------------------------------------------------------
// The two setups: both are started, then driven in turn.

interface Setup {
  name: 'direct' | 'through the fabric';
  proxy: { host: string; port: number };
  resultDb: { host: string; port: number };
  fleet: Fleet;
  /** The processes whose CPU is counted: label → pid (descendants included). */
  pids: Map<string, number>;
  load: Load;
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
  envOf: (vm: Vm) => Promise<Record<string, string>>,
  pids: Map<string, number>,
): Promise<Fleet> {
  const fleet = await Fleet.create();
  onCleanup(async () => {
    await fleet.stopAll();
    await fleet.cleanup();
  });
  const start = async (vm: Vm): Promise<[Proc, Vm]> => {
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
  const ready = ([p, vm]: [Proc, Vm]) => fleet.ready(p, `http://${ip(vm.n)}:${vm.readyPort}/readyz`, 60_000);
  // Stores first (their clients would only retry meanwhile), then the rest.
  const stores = await Promise.all(VMS.filter((v) => STORES.has(v.service)).map(start));
  await Promise.all(stores.map(ready));
  const rest = await Promise.all(VMS.filter((v) => !STORES.has(v.service)).map(start));
  await Promise.all(rest.map(ready));
  return fleet;
}

function setup(
  name: Setup['name'],
  ip: (n: number) => string,
  fleet: Fleet,
  pids: Map<string, number>,
): Setup {
  const load = new Load();
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
  const byService = new Map(VMS.map((v) => [v.service, v]));
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
  await Promise.all(PROCESSORS.map((p, i) => f.processor(p, ip(101 + i), 7501 + i)));
  track();
  const envFiles = new Map<string, string>();
  await Promise.all(
    VMS.map(async (vm) => {
      const file = await f.agent({
        vm: vm.vm,
        hostOwner: vm.service,
        domain: 'voting-app',
        address: ip(vm.n),
        processors: [vm.processor],
        serve: vm.serve.map((c) => `${c}=${ip(vm.n)}:${vm.port}`),
      });
      envFiles.set(vm.vm, file);
    }),
  );
  track();
  // Every client listener published (the agents learn of each other within ~1 s).
  for (const vm of VMS) {
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
    pids.set(`${name} ${PROCESSORS.includes(name) ? 'processor' : 'agent'}`, c.pid!);
  process.stderr.write('fabric: the six services, each with its agent’s env file…\n');
  const fleet = await startServices(
    ip,
    async (vm) => {
      const file = envFiles.get(vm.vm)!;
      return { ...(await f.envOf(file)), TRELLIS_ENV_FILE: file };
    },
    pids,
  );
  return setup('through the fabric', ip, fleet, pids);
}

// ---------------------------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : n.toFixed(0));

interface Result {
  setup: Setup;
  rate: number;
  p50: number;
  p99: number;
  verdict: Verdict;
}

function report(results: Result[]): void {
  const ratio = results.length === 2;
  const [a, b] = results;
  const row = (label: string, cells: string[], r = '') =>
    console.log(`| ${label} | ${cells.join(' | ')} |${ratio ? ` ${r} |` : ''}`);
  console.log(
    `\nVoting App: ${int(VOTERS)} voters, ${CONCURRENCY} requests in flight, ${SECONDS} s measured per setup in ${ROUNDS} rounds (${WARMUP} s warm-up, ${SETTLE} s settling per round); ${os.cpus().length} cores, node ${process.version}\n`,
  );
  row(
    '',
    results.map((r) => r.setup.name),
    'fabric / direct',
  );
  console.log(`|---|${results.map(() => '---|').join('')}${ratio ? '---|' : ''}`);
  row(
    'votes/s (acknowledged)',
    results.map((r) => int(r.rate)),
    ratio ? `${(b!.rate / a!.rate).toFixed(2)}×` : '',
  );
  row(
    'latency p50 / p99 (ms)',
    results.map((r) => `${ms(r.p50)} / ${ms(r.p99)}`),
    ratio ? `${(b!.p50 / a!.p50).toFixed(1)}× / ${(b!.p99 / a!.p99).toFixed(1)}×` : '',
  );
  row(
    'votes acknowledged (whole run)',
    results.map((r) => int(r.setup.load.acked)),
  );
  row(
    'errors',
    results.map((r) => {
      const n = [...r.setup.load.errors.values()].reduce((x, y) => x + y, 0);
      return n === 0 ? '0' : `${n} (${[...r.setup.load.errors].map(([k, v]) => `${v}× ${k}`).join('; ')})`;
    }),
  );
  row(
    'lost',
    results.map((r) =>
      Number.isNaN(r.verdict.lost) ? 'unknown (result-db unreadable)' : String(r.verdict.lost),
    ),
  );
  row(
    'result.json / expected',
    results.map((r) => {
      const t = r.verdict.tally;
      const e = r.verdict.expected;
      return `${t ? `${t.Mesos} + ${t.Kubernetes} = ${t.total}` : 'none'} / ${e.Mesos} + ${e.Kubernetes} = ${e.total}`;
    }),
  );
  row(
    'queue drained (s after last ack)',
    results.map((r) =>
      r.verdict.drainSeconds === undefined ? `not in ${DRAIN_TIMEOUT} s` : r.verdict.drainSeconds.toFixed(1),
    ),
  );
  const mine = (r: Result) =>
    [...r.setup.load.cpu.values()].reduce((x, s) => x + s, 0) + r.setup.load.generatorCpu;
  row(
    'machine CPU busy: this setup + bench / all',
    results.map((r) => {
      const m = r.setup.load.machine;
      return `${((mine(r) / m.total) * 100).toFixed(0)} % / ${((m.busy / m.total) * 100).toFixed(0)} %`;
    }),
  );
  for (const r of results) {
    const v = r.verdict;
    if (v.wrong || v.extra || v.uncertainVoters)
      console.log(
        `${r.setup.name}: ${v.wrong} wrong rows, ${v.extra} rows from unacknowledged ballots, ${v.uncertainVoters} voters with a ballot of unknown fate`,
      );
  }
  for (const r of results) {
    const L = r.setup.load;
    const window = L.measuredSeconds;
    const cpu = [...L.cpu].filter(([, s]) => s > 0).sort((x, y) => y[1] - x[1]);
    cpu.push(['bench load generator', L.generatorCpu]);
    console.log(
      `\nCPU in the measured windows, ${r.setup.name}: ${mine(r).toFixed(1)} s of ${L.machine.total.toFixed(0)} s (% of one core, CPU per acknowledged vote):`,
    );
    console.log(
      cpu
        .filter(([, s]) => s / window >= 0.005)
        .map(
          ([k, s]) =>
            `  ${k.padEnd(34)} ${((s / window) * 100).toFixed(0).padStart(4)} %   ${((s / L.measuredAcks) * 1e6).toFixed(0).padStart(5)} µs/vote`,
        )
        .join('\n'),
    );
  }
  const fabric = results.find((r) => r.setup.name === 'through the fabric');
  if (fabric) {
    const met =
      fabric.rate >= GOAL_VOTES_PER_S &&
      fabric.verdict.lost === 0 &&
      fabric.verdict.drainSeconds !== undefined;
    console.log(
      `\ngoal ≥ ${int(GOAL_VOTES_PER_S)} votes/s through the fabric, 0 lost: ${met ? 'met' : 'MISSED'} (${int(fabric.rate)} votes/s, ${fabric.verdict.lost} lost)`,
    );
  }
}

async function main(): Promise<void> {
  const budget = WARMUP * 2 + (SECONDS + SETTLE * ROUNDS) * 2 + DRAIN_TIMEOUT * 2 + 600;
  const results = await deadline(
    (async () => {
      const setups: Setup[] = [];
      if (only !== 'fabric') setups.push(await startDirect());
      if (only !== 'direct') setups.push(await startFabric());
      for (const s of setups) {
        process.stderr.write(`${s.name}: warm-up, ${WARMUP} s…\n`);
        await drive(s, WARMUP, 0);
      }
      // In turn, so that whatever else the machine is doing weighs on both alike. Each setup's
      // queue is checked right after its last phase, so its drain time is its own.
      const out: Result[] = [];
      for (let round = 1; round <= ROUNDS && !exiting; round++) {
        for (const s of setups) {
          await drive(s, SETTLE, SECONDS / ROUNDS);
          const L = s.load;
          process.stderr.write(
            `round ${round}/${ROUNDS}, ${s.name}: ${int(L.measuredAcks / L.measuredSeconds)} votes/s so far\n`,
          );
          if (round < ROUNDS) continue;
          process.stderr.write(
            `${s.name}: ${int(L.acked)} votes acknowledged; waiting for the queue to drain…\n`,
          );
          const verdict = await verify(s);
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
  report(results);
  const bad = results.some((r) => r.verdict.lost !== 0 || r.verdict.wrong !== 0);
  await shutdown(bad ? 1 : 0);
}

main().catch((err: Error) => shutdown(1, err.stack ?? err.message));
