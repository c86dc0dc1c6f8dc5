import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: found upward, so this file works from test/ and compiled under dist/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const REPO_ROOT = repoRoot();

/** The built CLI, run as a user runs it (`npm test` builds dist/ first). */
export const TRELLIS_BIN = join(REPO_ROOT, 'bin', 'trellis.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function trellis(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRELLIS_BIN, ...args], {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** `trellis ARGS` left running (a watch): its output so far, its lines, and how it ended. */
export function trellisInBackground(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [TRELLIS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr.on('data', (d) => {
    out.stderr += d;
  });
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, ended, lines: () => out.stdout.split('\n').filter(Boolean) };
}

/** A real `trellis orchestrator` process on a free loopback port. */
export interface OrchestratorProcess {
  url: string;
  /** `sha256:…`, from the orchestrator's `ca fingerprint:` line. */
  fingerprint: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function spawnOrchestrator(opts: {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  listen?: string;
  /** Serve HTTPS (the default a user gets); most suites use plain HTTP on loopback. */
  https?: boolean;
  args?: string[];
}): Promise<OrchestratorProcess> {
  const listen = opts.listen ?? '127.0.0.1:0';
  const child = spawn(
    process.execPath,
    [
      TRELLIS_BIN,
      'orchestrator',
      '--listen',
      listen,
      '--data-dir',
      opts.dataDir,
      ...(opts.https ? [] : ['--plain-http']),
      ...(opts.args ?? []),
    ],
    {
      env: opts.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const started = await new Promise<{ url: string; fingerprint: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: nobody else holds this process.
      child.kill('SIGKILL');
      reject(new Error(`orchestrator did not start in 60 s: ${stderr}`));
      // A first start creates and migrates the embedded store: ~10 s on an idle 2-core machine,
      // over 30 s when the suites' other processes load it (the lab allows 60 s too).
    }, 60_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /listening on (https?:\/\/[^\s]+)/.exec(stderr);
      const fp = /ca fingerprint: (sha256:[0-9a-f]{64})/.exec(stderr);
      if (m && fp) {
        clearTimeout(timer);
        resolve({ url: m[1]!, fingerprint: fp[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`orchestrator exited with ${code}: ${stderr}`));
    });
  });
  return {
    ...started,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Homes made by cliEnv in this process: removed after each test file (test/support/setup.ts) and on exit. */
const homes = new Set<string>();
let removedOnExit = false;

/** Removes every home cliEnv made so far. */
export function removeCliHomes(): void {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  homes.clear();
}

/**
 * A private $TRELLIS_HOME so tests never touch the developer's ~/.trellis. It is made under
 * `parent` (a directory the caller removes: a TestFabric's own) or the system's temporary
 * directory, and removed after the test file and when the process exits either way: the suite
 * left one empty directory per call in /tmp before (vitest's workers end without 'exit').
 */
export async function cliEnv(extra: NodeJS.ProcessEnv = {}, parent = tmpdir()): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(parent, 'trellis-home-'));
  if (!removedOnExit) process.once('exit', removeCliHomes);
  removedOnExit = true;
  homes.add(home);
  const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_HOME: home, ...extra };
  delete env.TRELLIS_TOKEN;
  delete env.TRELLIS_ORCHESTRATOR;
  return env;
}
