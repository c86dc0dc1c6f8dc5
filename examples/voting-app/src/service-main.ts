import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { serviceLogger } from './log.js';

/** What every service's start function returns. */
export interface RunningService {
  /** Stops gracefully: no new work, work in flight finished, connections closed. */
  close(): Promise<void>;
}

/** True when the module at `moduleUrl` is the program node was asked to run. */
export function isMain(moduleUrl: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Runs a service as a program: starts it from the environment, logs, and on SIGTERM/SIGINT
 * closes it gracefully (exit 0), forcing the exit if that takes over 10 s. A failure to
 * start is logged and exits 1, so a supervisor restarts it.
 */
export function runMain(
  moduleUrl: string,
  service: string,
  start: (env: NodeJS.ProcessEnv, log: Logger) => Promise<RunningService>,
): void {
  if (!isMain(moduleUrl)) return;
  const log = serviceLogger(service);
  let running: RunningService | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    (running?.close() ?? Promise.resolve()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  start(process.env, log).then(
    (r) => {
      running = r;
      if (stopping) r.close().finally(() => process.exit(0));
    },
    (err: Error) => {
      log.error({ err: err.message }, 'failed to start');
      process.exit(1);
    },
  );
}

/** Reads the VM's address and port every service binds to. */
export function bindAddress(env: NodeJS.ProcessEnv, defaultPort: number): { host: string; port: number } {
  const host = env.TRELLIS_VM_ADDRESS || '127.0.0.1';
  const raw = env.PORT ?? String(defaultPort);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number 0-65535 (got ${JSON.stringify(raw)})`);
  }
  return { host, port };
}

/** `true`/`1`/`yes` → true; unset → the default; anything else is an error naming the variable. */
export function envFlag(env: NodeJS.ProcessEnv, name: string, fallback = false): boolean {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new Error(`${name} must be true or false (got ${JSON.stringify(v)})`);
}

/** A positive integer from the environment. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer (got ${JSON.stringify(v)})`);
  return n;
}
