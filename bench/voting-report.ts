/** The Voting App bench's report: the comparison table, CPU per process, and the goal. */
import os from 'node:os';
import type { Load } from './voting-load.js';
import type { Verdict } from './voting-verify.js';

const GOAL_VOTES_PER_S = 1000;
/** Issue 12: votes/s through the fabric as a share of the app wired directly, in the same run. */
const GOAL_VS_DIRECT = 0.9;

/** What the run was asked to do, as the report's heading says it. */
export interface Settings {
  voters: number;
  concurrency: number;
  seconds: number;
  rounds: number;
  warmup: number;
  settle: number;
  drainTimeout: number;
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(1) : n.toFixed(0));

export interface Result {
  setup: { name: string; load: Load };
  rate: number;
  p50: number;
  p99: number;
  verdict: Verdict;
}

export function report(results: Result[], o: Settings): void {
  const ratio = results.length === 2;
  const [a, b] = results;
  const row = (label: string, cells: string[], r = '') =>
    console.log(`| ${label} | ${cells.join(' | ')} |${ratio ? ` ${r} |` : ''}`);
  console.log(
    `\nVoting App: ${int(o.voters)} voters, ${o.concurrency} requests in flight, ${o.seconds} s measured per setup in ${o.rounds} rounds (${o.warmup} s warm-up, ${o.settle} s settling per round); ${os.cpus().length} cores, node ${process.version}\n`,
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
      r.verdict.drainSeconds === undefined ? `not in ${o.drainTimeout} s` : r.verdict.drainSeconds.toFixed(1),
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
    const direct = results.find((r) => r.setup.name === 'direct');
    if (direct && direct.rate > 0) {
      const ratio = fabric.rate / direct.rate;
      console.log(
        `goal votes/s through the fabric ≥ ${GOAL_VS_DIRECT}× direct: ${ratio >= GOAL_VS_DIRECT ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×)`,
      );
    }
  }
}
