import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrellisError } from '../errors.js';
import { LAB_MARKER } from './processes.js';
import { type LabPaths, type LabState, readState } from './state.js';

/**
 * `lab up --detach`: re-run this CLI as `lab supervise -f LAB` in its own session with output
 * to logs/supervisor.log, relay that log to the terminal while the lab starts, and return once
 * state.json says every child is ready. The supervisor outlives this process.
 */
export async function startDetached(opts: {
  labFile: string;
  paths: LabPaths;
  out(text: string): void;
  /** How to run this CLI again; default: the same node and script as now. */
  argv0?: string[];
}): Promise<LabState> {
  const { paths } = opts;
  const log = paths.log('supervisor');
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const fd = openSync(log, 'a', 0o600);
  const from = (await stat(log)).size;
  const argv0 = opts.argv0 ?? [process.execPath, process.argv[1]!];
  const child = (() => {
    try {
      return spawn(
        argv0[0]!,
        [...argv0.slice(1), 'lab', 'supervise', '-f', resolve(opts.labFile), '--log', log],
        {
          detached: true,
          stdio: ['ignore', fd, fd],
          // Not the caller's directory, which a long-running supervisor would keep busy.
          cwd: paths.dir,
          // The marker lets `lab down` find the supervisor even if state.json is lost.
          env: { ...process.env, [LAB_MARKER]: paths.dir },
        },
      );
    } finally {
      closeSync(fd);
    }
  })();
  let exit: string | null = null;
  child.once('exit', (code, signal) => {
    exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.once('error', (err) => {
    exit = `could not start: ${err.message}`;
  });

  const follow = await logFollower(log, from, opts.out);
  try {
    for (;;) {
      await follow();
      const state = await readState(paths);
      if (state?.phase === 'ready' && state.supervisor.pid === child.pid) {
        child.unref();
        return state;
      }
      if (exit !== null) {
        await follow();
        throw new TrellisError('TRELLIS_ERR_INTERNAL', `the lab did not start: its supervisor ${exit}`, {
          hint: `see ${log}`,
        });
      }
      await sleep(100);
    }
  } finally {
    await follow.close();
  }
}

/** Copies what is appended to `file` after `offset` to `out`, each time it is called. */
async function logFollower(
  file: string,
  offset: number,
  out: (text: string) => void,
): Promise<{ (): Promise<void>; close(): Promise<void> }> {
  const handle = await open(file, 'r');
  let pos = offset;
  const buf = Buffer.alloc(64 * 1024);
  const follow = async () => {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      out(buf.subarray(0, bytesRead).toString('utf8'));
    }
  };
  return Object.assign(follow, { close: () => handle.close() });
}
