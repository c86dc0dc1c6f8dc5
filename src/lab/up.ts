import { join } from 'node:path';
import { startDetached } from './detach.js';
import { labDown } from './down.js';
import type { LabCommands } from './plan.js';
import { isLabSupervisor, labProcesses } from './processes.js';
import { type LabPaths, type LabState, labPaths, readState } from './state.js';
import { loadLab, superviseLab } from './supervise.js';

/**
 * `trellis lab up`: start the lab unless one is already running (then say so and succeed), in
 * the foreground (this process supervises until Ctrl-C) or detached (a background supervisor;
 * this returns once everything is ready).
 */

export interface UpOptions {
  labFile: string;
  detach: boolean;
  out(text: string): void;
  paths?: LabPaths;
  /** Foreground only; a detached supervisor reads TRELLIS_LAB_COMMANDS_FOR_TESTS itself. */
  commands?: LabCommands;
  /** How to re-run this CLI for the detached supervisor; default: the same node and script. */
  argv0?: string[];
}

export type UpResult = { started: boolean; state: LabState | undefined };

export async function labUp(opts: UpOptions): Promise<UpResult> {
  const paths = opts.paths ?? labPaths();
  const existing = await readState(paths);
  if (existing && (await isLabSupervisor(existing.supervisor.pid, paths.dir))) {
    const how = existing.phase === 'ready' ? 'is already running' : `is already ${existing.phase}`;
    opts.out(`a lab ${how} (${existing.labFile}, supervisor pid ${existing.supervisor.pid})\n`);
    if (existing.phase === 'ready') opts.out(summary(existing, paths));
    return { started: false, state: existing };
  }
  if (existing || (await labProcesses(paths.dir)).length > 0) {
    // The supervisor died without cleaning up (killed, machine slept, …): clear what it left.
    opts.out('cleaning up a lab whose supervisor is gone…\n');
    await labDown({ paths, out: opts.out });
  }

  if (opts.detach) {
    // Check the files here: an error reads better than a background process's exit code.
    await loadLab(opts.labFile);
    const state = await startDetached({
      labFile: opts.labFile,
      paths,
      out: opts.out,
      ...(opts.argv0 && { argv0: opts.argv0 }),
    });
    opts.out(summary(state, paths));
    return { started: true, state };
  }
  let ready: LabState | undefined;
  await superviseLab({
    labFile: opts.labFile,
    out: opts.out,
    paths,
    supervisorLog: null,
    ...(opts.commands && { commands: opts.commands }),
    onReady: (state) => {
      ready = state;
      opts.out(`${summary(state, paths)}Ctrl-C stops the lab.\n`);
    },
  });
  return { started: true, state: ready };
}

/** What a user needs once the lab is up: where to point the CLI and a browser, where logs are. */
export function summary(state: LabState, paths: LabPaths): string {
  const lines = [
    '',
    `Orchestrator:  ${state.orchestrator.url}   (the CLI is logged in as admin)`,
    // Never the password itself: terminal scrollback, CI logs and screen shares keep stdout.
    `Admin login:   admin, password in ${join(paths.dir, 'admin-password')} (mode 0600)`,
    `Host owners:   passwords in ${paths.secrets}`,
  ];
  const urls = Object.entries(state.urls);
  if (urls.length > 0) {
    lines.push('URLs:');
    for (const [name, url] of urls) lines.push(`  ${name.padEnd(12)} ${url}`);
  }
  lines.push(
    `Logs:          ${paths.logs}/`,
    '`trellis lab status` shows it; `trellis lab down` stops it.',
    '',
  );
  return lines.join('\n');
}
