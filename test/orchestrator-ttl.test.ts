import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, TRELLIS_BIN, trellis } from './support/cli.js';

/** Starts `trellis orchestrator` and resolves with its stderr once it listens (then stops it). */
async function startupLines(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [TRELLIS_BIN, 'orchestrator', '--listen', '127.0.41.90:0', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err) && /created systemAdmin/.test(err)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  await new Promise<void>((r) => {
    child.removeAllListeners('exit');
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
  return err;
}

describe('trellis orchestrator --node-cert-ttl / --ticket-ttl', () => {
  const dirs: string[] = [];
  const dataDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'trellis-ttl-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('takes the lifetimes from the environment, and a flag wins over its variable', async () => {
    const env = await cliEnv({
      TRELLIS_ADMIN_PASSWORD: 'ttl-admin-pw',
      TRELLIS_NODE_CERT_TTL: '90s',
      TRELLIS_TICKET_TTL: '5m',
    });
    const err = await startupLines(['--data-dir', await dataDir(), '--ticket-ttl', '2m'], env);
    expect(err).toContain('node certificates last 1m30s, flow tickets 2m');
  }, 60_000);

  it('refuses a malformed duration, naming the variable or the flag', async () => {
    const bad = await trellis(['orchestrator', '--listen', '127.0.41.90:0', '--data-dir', await dataDir()], {
      env: await cliEnv({ TRELLIS_NODE_CERT_TTL: 'soon' }),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: TRELLIS_NODE_CERT_TTL "soon" is not a duration');
    const flag = await trellis(
      ['orchestrator', '--listen', '127.0.41.90:0', '--data-dir', await dataDir(), '--ticket-ttl', '500ms'],
      { env: await cliEnv() },
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('error: --ticket-ttl "500ms" is under a second');
  }, 60_000);
});
