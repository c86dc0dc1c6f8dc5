import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The last lines a child wrote, kept to explain why it failed to start. */
export function captureTail(child: ChildProcess, lines = 30): () => string {
  const kept: string[] = [];
  const take = (d: Buffer) => {
    kept.push(...d.toString('utf8').split('\n').filter(Boolean));
    kept.splice(0, Math.max(0, kept.length - lines));
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => kept.join('\n');
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(1_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until the child's port accepts connections; fails early if the child exits. */
export async function waitForPort(
  child: ChildProcess,
  what: string,
  host: string,
  port: number,
  tail: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exited =
      child.signalCode !== null
        ? `killed by ${child.signalCode}`
        : child.exitCode !== null
          ? `exited with code ${child.exitCode}`
          : undefined;
    if (exited) throw new Error(`${what} ${exited} before listening on ${host}:${port}:\n${tail()}`);
    if (await tcpOpen(host, port)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not listening on ${host}:${port} after ${timeoutMs} ms:\n${tail()}`);
    await sleep(100);
  }
}

/**
 * Kills the child if this process exits without closing it first (an uncaught error, a test
 * runner tearing down), so no store is left behind holding the VM's port. A SIGKILL of this
 * process cannot be caught; a supervisor that kills the process group covers that.
 */
export function killOnExit(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
