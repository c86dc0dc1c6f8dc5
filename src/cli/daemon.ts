import { TrellisError } from '../errors.js';

/**
 * The long-running commands (orchestrator, processor, agent) must not linger when they fail to
 * start: a supervisor restarts a process that exits, never one that hangs. Setting exitCode is
 * not enough there, since what they opened before failing (PGlite, control sessions, timers)
 * keeps the event loop alive; main() exits at once after reporting the error of a command that
 * called daemonStarting().
 */
let daemon = false;

export function daemonStarting(): void {
  daemon = true;
}

export function exitsOnStartFailure(): boolean {
  return daemon;
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no such address on this host',
  EACCES: 'permission denied',
};

/** A Node listen error → one that names the address and the way out; anything else unchanged. */
export function listenFailure(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall !== 'listen' || !e.code || !(e.code in WHY)) return err;
  const where = e.address?.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  return new TrellisError(
    'TRELLIS_ERR_UNAVAILABLE',
    `cannot listen on ${where}: ${WHY[e.code]} (${e.code})`,
    {
      hint:
        e.code === 'EADDRINUSE'
          ? `another process is listening on ${where} (ss -ltnp shows which); stop it or choose another address`
          : 'choose an address of this host that this user may bind',
    },
  );
}
