import { OPTIONS, type VoteOption } from './config.js';

/**
 * The result: a count per option and the total — `{"Mesos": n, "Kubernetes": m, "total": n+m}`,
 * the exact shape of GET /voting/result.json and of every live update. Options come first,
 * in the poll's order, then the total.
 */
export type Tally = Record<VoteOption, number> & { total: number };

export function emptyTally(): Tally {
  const t: Record<string, number> = {};
  for (const o of OPTIONS) t[o] = 0;
  t.total = 0;
  return t as Tally;
}

export function sameTally(a: Tally, b: Tally): boolean {
  return a.total === b.total && OPTIONS.every((o) => a[o] === b[o]);
}

/** Share of the total in percent, one decimal; 0 when nobody has voted yet. */
export function percentOf(t: Tally, option: VoteOption): number {
  return t.total === 0 ? 0 : Math.round((t[option] / t.total) * 1000) / 10;
}
