/**
 * After the Voting App bench's load: has every acknowledged ballot reached result.json (through
 * http-proxy) and result-db (read straight from it: the bench's own check)?
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sleep } from './support.js';
import type { Target, Voter } from './voting-load.js';

export interface Tally {
  Mesos: number;
  Kubernetes: number;
  total: number;
}

export interface Verdict {
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
 * holds every voter's last acknowledged ballot, or `drainTimeout` seconds pass (or `stopped()`).
 */
export async function verify(
  s: Target & { resultDb: { host: string; port: number } },
  drainTimeout: number,
  stopped: () => boolean,
): Promise<Verdict> {
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
  const end = performance.now() + drainTimeout * 1000;
  const url = `http://${s.proxy.host}:${s.proxy.port}/voting/result.json`;
  let tally: Tally | undefined;
  let db = { lost: Number.NaN, wrong: Number.NaN, extra: Number.NaN };
  let stableSince = performance.now();
  while (!stopped()) {
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
