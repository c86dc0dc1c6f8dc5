/**
 * CPU sampling from Linux /proc: a process's descendants, the whole machine's busy time, and
 * the CPU seconds of labelled processes with their children (e.g. redis-server, postgres).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from './support.js';

/** Child pids of `pid`, recursively (Linux /proc; empty elsewhere). */
export function descendants(pid: number): number[] {
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
export function machineCpu(): { busy: number; total: number } {
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
export function cpuSnapshot(procs: Map<string, number>): Map<string, number> {
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
