import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/api-client/client.js';
import { pinnedFetch } from '../../src/api-client/trust.js';
import { parseFabricText } from '../../src/apply/index.js';
import { NODE_PROCESS_ENV, NODE_PROCESS_FLAGS } from '../../src/node/runtime/node-process.js';
import { cliEnv, type OrchestratorProcess, spawnOrchestrator, TRELLIS_BIN } from './cli.js';

/**
 * A small real fabric on loopback for data-plane tests: an orchestrator process, processor
 * and agent processes started with the real CLI, each on its own 127.x address.
 */
export class TestFabric {
  readonly children = new Map<string, ChildProcess>();
  readonly logs = new Map<string, string[]>();
  orch!: OrchestratorProcess;
  admin!: ApiClient;
  env!: NodeJS.ProcessEnv;
  dir!: string;
  passwords: Record<string, string> = {};
  /** With HTTPS: what every node is given to pin the orchestrator's CA. */
  trustArgs: string[] = [];
  /** Whether nodes start as host units start them (NODE_PROCESS_FLAGS/ENV); off only to compare. */
  nodeTuning = true;

  /**
   * `https`: the orchestrator serves HTTPS (as a user runs it) and every node pins its CA.
   * `nodeTuning: false`: processors and agents start with node's defaults (a benchmark's A/B).
   */
  static async start(
    fabricYaml: string,
    opts: { https?: boolean; env?: NodeJS.ProcessEnv; listen?: string; nodeTuning?: boolean } = {},
  ): Promise<TestFabric> {
    const f = new TestFabric();
    f.nodeTuning = opts.nodeTuning ?? true;
    f.dir = await mkdtemp(join(tmpdir(), 'trellis-fabric-'));
    f.env = await cliEnv({ TRELLIS_ADMIN_PASSWORD: 'fabric-admin-pw', ...opts.env }, f.dir);
    try {
      const dataDir = join(f.dir, 'orchestrator');
      f.orch = await spawnOrchestrator({
        dataDir,
        env: f.env,
        https: opts.https ?? false,
        ...(opts.listen && { listen: opts.listen }),
      });
      const caPem = opts.https ? await readFile(join(dataDir, 'ca.crt'), 'utf8') : undefined;
      if (opts.https) f.trustArgs = ['--ca-fingerprint', f.orch.fingerprint];
      const api = new ApiClient(f.orch.url, undefined, pinnedFetch(caPem ? { caPem } : {}));
      const { token } = await api.login('admin', 'fabric-admin-pw');
      f.admin = api.withToken(token);
      const spec = parseFabricText(fabricYaml, 'fabric.yaml').spec;
      const res = await f.admin.apply(spec, { prune: false, dryRun: false, passwords: {} });
      f.passwords = res.generatedPasswords;
    } catch (err) {
      // The caller never gets `f` to stop: leave no orchestrator or directory behind.
      await f.orch?.stop();
      await rm(f.dir, { recursive: true, force: true });
      throw err;
    }
    return f;
  }

  async passwordFile(key: string): Promise<string> {
    const file = join(this.dir, 'pw', key.replace('/', '_'));
    await mkdir(join(this.dir, 'pw'), { recursive: true });
    await writeFile(file, this.passwords[key]!, { mode: 0o600 });
    return file;
  }

  spawn(name: string, args: string[]): ChildProcess {
    // TRELLIS_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles every node process.
    const nodeArgs = process.env.TRELLIS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    // Processors and agents start as their host units start them (src/host/units.ts).
    const tuning = this.nodeTuning
      ? { flags: NODE_PROCESS_FLAGS, env: NODE_PROCESS_ENV }
      : { flags: [], env: {} };
    const child = spawn(process.execPath, [...tuning.flags, ...nodeArgs, TRELLIS_BIN, ...args], {
      env: { ...tuning.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    this.logs.set(name, lines);
    child.stdout!.on('data', (d) => lines.push(String(d)));
    child.stderr!.on('data', (d) => lines.push(String(d)));
    this.children.set(name, child);
    return child;
  }

  async processor(name: string, address: string, port: number): Promise<void> {
    const pw = await this.passwordFile('infra/fabric-ops');
    this.spawn(name, [
      'processor',
      '--name',
      name,
      '--listen',
      `${address}:${port}`,
      // Its own loopback address: the default 127.0.0.1:9901 is one per host.
      '--admin-listen',
      `${address}:9901`,
      '--orchestrator',
      this.orch.url,
      '--switch-owner',
      'fabric-ops',
      '--domain',
      'infra',
      '--password-file',
      pw,
      '--state-dir',
      join(this.dir, name),
      '--log-level',
      'info',
      ...this.trustArgs,
    ]);
    await this.waitFor(
      async () => (await this.admin.nodes()).some((n) => n.name === name && n.status === 'connected'),
      `${name} registered`,
    );
  }

  async agent(o: {
    vm: string;
    hostOwner: string;
    domain: string;
    address: string;
    processors: string[];
    serve?: string[];
    /** How long to wait for it to register (longer when it must first wait out a 429). */
    waitMs?: number;
    /** Enrol with this token file instead of the host owner's password. */
    tokenFile?: string;
  }): Promise<string> {
    const envFile = join(this.dir, o.vm, 'fabric.env');
    const credentials = o.tokenFile
      ? ['--token-file', o.tokenFile]
      : [
          '--hostowner',
          o.hostOwner,
          '--domain',
          o.domain,
          '--password-file',
          await this.passwordFile(`${o.domain}/${o.hostOwner}`),
          '--orchestrator',
          this.orch.url,
          ...this.trustArgs,
        ];
    this.spawn(o.vm, [
      'agent',
      ...credentials,
      '--vm',
      o.vm,
      '--address',
      o.address,
      // As the lab does: the test's VMs share one loopback, each binds its own address.
      '--client-address',
      o.address,
      '--processors',
      o.processors.join(','),
      ...(o.serve ?? []).flatMap((s) => ['--serve', s]),
      '--state-dir',
      join(this.dir, o.vm),
      '--env-path',
      envFile,
    ]);
    await this.waitFor(
      async () => (await this.admin.nodes()).some((n) => n.name === o.vm && n.status === 'connected'),
      `${o.vm} registered`,
      o.waitMs,
    );
    await this.waitFor(
      async () => (await readFile(envFile, 'utf8').catch(() => null)) !== null,
      `${o.vm} env file`,
    );
    return envFile;
  }

  async envOf(envFile: string): Promise<Record<string, string>> {
    const text = await readFile(envFile, 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=', 2) as [string, string]),
    );
  }

  async waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = [...this.logs.entries()].map(([k, v]) => `--- ${k}\n${v.join('').slice(-3000)}`).join('\n');
    throw new Error(`timed out waiting for ${what}\n${logs}`);
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.children.get(name)?.kill(signal);
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    await this.orch.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
