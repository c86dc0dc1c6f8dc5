/**
 * The Voting App bench's load: voters posting ballots to http-proxy through one keep-alive
 * pool, each with at most one ballot in flight, and what was measured while they did.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../test/support/random.js';
import { cpuSnapshot, machineCpu } from './cpu-sample.js';

/** A vote with no answer after this long is an error (a ballot of unknown fate). */
const REQUEST_TIMEOUT_MS = 30_000;

export type Option = 'Mesos' | 'Kubernetes';
export interface Voter {
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
export class Load {
  readonly agent: http.Agent;
  readonly voters: Voter[];
  /**
   * Voters not voting right now, in turn: each request takes the next one, so no voter ever has
   * two ballots in flight (their order at voting-db would then be unknown).
   */
  readonly idle: number[];
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
  constructor(
    voters: number,
    /** Requests in flight (at most one per voter). */
    readonly concurrency: number,
    /** A setup's load stops after this many votes. */
    readonly maxVotes = Number.POSITIVE_INFINITY,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, scheduling: 'fifo' });
    this.voters = Array.from({ length: voters }, () => ({ seq: 0, uncertain: false }));
    this.idle = this.voters.map((_, i) => i);
  }
}

/** Where a setup's load goes, and the processes whose CPU is counted (label → pid). */
export interface Target {
  proxy: { host: string; port: number };
  pids: Map<string, number>;
  load: Load;
}

/**
 * Drives a setup's voters for `settle` + `seconds`: the first `settle` seconds are not measured
 * (connections the servers closed while the other setup ran are reopened then). Measured:
 * acknowledgements that arrive inside the window, latency of the requests sent inside it, and
 * the CPU of every process of the setup, of the bench and of the machine. Stops early once
 * `stopped()` says so.
 */
export async function drive(
  s: Target,
  settle: number,
  seconds: number,
  stopped: () => boolean,
): Promise<void> {
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
    while (performance.now() < to && L.started < L.maxVotes && !stopped()) {
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
  await Promise.all(Array.from({ length: L.concurrency }, worker));
  for (const t of timers) clearTimeout(t);
  // Stopped before the window's end (--votes, Ctrl-C): the window ends here.
  closeWindow(Math.min(performance.now(), to));
}
