import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { until } from './wait.js';

/**
 * The six Voting App services as the lab runs them: compiled modules started with `node`,
 * configured only by environment variables, logs to files (shown when something fails).
 */
export const SERVICE_DIR = join(REPO_ROOT, 'dist', 'src', 'examples', 'voting-app', 'services');

export interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class Fleet {
  readonly procs: Proc[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<Fleet> {
    const module = join(SERVICE_DIR, 'http-proxy.js');
    if (!existsSync(module))
      throw new Error(`${module} is missing: run \`npm run build\` first (npm test does)`);
    return new Fleet(await mkdtemp(join(tmpdir(), 'voting-app-e2e-')));
  }

  async start(name: string, service: string, env: Record<string, string>): Promise<Proc> {
    const log = join(this.dir, `${name}.log`);
    const out = await open(log, 'w');
    // TRELLIS_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", as for TestFabric's processes.
    const nodeArgs = process.env.TRELLIS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, join(SERVICE_DIR, `${service}.js`)], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', out.fd, out.fd],
    });
    await out.close();
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const p = { name, child, log, exit };
    this.procs.push(p);
    return p;
  }

  /** Waits for GET url to answer 200, failing early (with the log) if the process died. */
  async ready(p: Proc, url: string, ms = 40_000): Promise<void> {
    await until(
      `${p.name} at ${url}`,
      async () => {
        if (p.child.exitCode !== null)
          throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${await this.tail(p)}`);
        const r = await fetch(url).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      ms,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n--- ${p.name} log ---\n${await this.tail(p)}`);
    });
  }

  async tail(p: Proc, lines = 40): Promise<string> {
    const text = await readFile(p.log, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM to all, newest first; resolves to how each one exited. */
  async stopAll(): Promise<Record<string, { code: number | null; signal: NodeJS.Signals | null }>> {
    const out: Record<string, { code: number | null; signal: NodeJS.Signals | null }> = {};
    for (const p of [...this.procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
      out[p.name] = await p.exit;
      clearTimeout(timer);
    }
    return out;
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
