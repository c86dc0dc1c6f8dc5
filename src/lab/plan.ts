import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Deployment } from '../deploy/manifest.js';
import { TrellisError } from '../errors.js';
import type { AddressPlan } from './addresses.js';
import { readEnvFile } from './env-file.js';
import type { LoadedLab } from './lab-file.js';
import { labCaFile, labClient } from './orchestrator-client.js';
import { LAB_MARKER } from './processes.js';
import type { LabPaths } from './state.js';
import type { ChildSpec } from './supervisor.js';
import { answers, fileExists, type Probe, tcpOpen } from './wait.js';

/**
 * The spawn plan: which command each lab process runs, in which order, and how the lab tells
 * it is ready. Pure apart from locating bin/trellis.js, so tests can swap commands.
 */

/** argv prefixes; the lab appends each command's flags (`--name`, `--listen`, …). */
export interface LabCommands {
  orchestrator: string[];
  processor: string[];
  agent: string[];
}

export const LabCommandsOverride = z.strictObject({
  orchestrator: z.array(z.string()).min(1).optional(),
  processor: z.array(z.string()).min(1).optional(),
  agent: z.array(z.string()).min(1).optional(),
});

/**
 * Tests run the lab with stand-ins for commands that may not exist yet: this variable names a
 * JSON file like `{"processor": ["node", "stand-in.mjs", "processor"]}`. It is inherited by the
 * detached supervisor, so `lab up --detach` honours it too.
 */
export const COMMANDS_ENV = 'TRELLIS_LAB_COMMANDS_FOR_TESTS';

export async function labCommands(env: NodeJS.ProcessEnv = process.env): Promise<LabCommands> {
  const bin = trellisBin();
  const defaults: LabCommands = {
    orchestrator: [process.execPath, bin, 'orchestrator'],
    processor: [process.execPath, bin, 'processor'],
    agent: [process.execPath, bin, 'agent'],
  };
  const file = env[COMMANDS_ENV];
  if (!file) return defaults;
  const parsed = LabCommandsOverride.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success)
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `${COMMANDS_ENV} (${file}): ${parsed.error.message}`);
  return { ...defaults, ...parsed.data };
}

/** bin/trellis.js of this checkout, found from dist/src/lab (built) or src/lab (tests). */
export function trellisBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = join(dir, 'bin', 'trellis.js');
    if (existsSync(bin)) return bin;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find bin/trellis.js above the lab module');
    dir = up;
  }
}

export interface PlannedChild {
  spec: ChildSpec;
  /** Passes once the process does its job (answers, listens, wrote its env file). */
  ready: Probe;
  timeoutMs: number;
}

export interface LabPlan {
  orchestrator: PlannedChild;
  processors: PlannedChild[];
}

export interface PlanContext {
  lab: LoadedLab;
  addresses: AddressPlan;
  paths: LabPaths;
  commands: LabCommands;
  adminPassword: string;
  /** The 0600 file holding `domain/user`'s password. */
  passwordFile(domain: string, user: string): string;
}

export function orchestratorUrl(addresses: AddressPlan): string {
  return `https://${addresses.orchestrator.address}:${addresses.orchestrator.port}`;
}

/** Every lab process carries the marker; the lab's admin password reaches the orchestrator only. */
function baseEnv(paths: LabPaths): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, [LAB_MARKER]: paths.dir };
  delete env.TRELLIS_ADMIN_PASSWORD;
  return env;
}

type SpecMaker = (
  name: string,
  kind: ChildSpec['kind'],
  stage: number,
  argv: string[],
  env: () => Promise<NodeJS.ProcessEnv>,
  cwd?: string,
) => ChildSpec;

function specMaker(paths: LabPaths): SpecMaker {
  return (name, kind, stage, argv, env, cwd) => ({
    name,
    kind,
    stage,
    command: argv[0]!,
    args: argv.slice(1),
    env,
    log: paths.log(name),
    ...(cwd && { cwd }),
  });
}

export function planLab(ctx: PlanContext): LabPlan {
  const { lab, addresses, paths, commands } = ctx;
  const url = orchestratorUrl(addresses);
  const spec = specMaker(paths);
  const o = addresses.orchestrator;
  const orchestrator: PlannedChild = {
    spec: spec(
      'orchestrator',
      'orchestrator',
      0,
      [...commands.orchestrator, '--listen', `${o.address}:${o.port}`, '--data-dir', paths.orchestratorData],
      async () => {
        const env: NodeJS.ProcessEnv = { ...baseEnv(paths), TRELLIS_ADMIN_PASSWORD: ctx.adminPassword };
        // The lab's orchestrator keeps its data in the lab directory, never in a shared database.
        delete env.DATABASE_URL;
        return env;
      },
    ),
    // Until the first start created the CA there is nothing to trust: the probe fails, and retries.
    ready: answers(async () => (await labClient(paths, url)).health()),
    // A first start creates and migrates the embedded database.
    timeoutMs: 60_000,
  };

  const so = lab.spec.switchOwner;
  const processors = addresses.processors.map(
    (p): PlannedChild => ({
      spec: spec(
        p.name,
        'processor',
        1,
        [
          ...commands.processor,
          '--name',
          p.name,
          '--listen',
          `${p.address}:${p.port}`,
          '--orchestrator',
          url,
          '--switch-owner',
          so.name,
          '--domain',
          so.domain,
          '--password-file',
          ctx.passwordFile(so.domain, so.name),
          '--ca-file',
          labCaFile(paths),
          '--state-dir',
          paths.processorState(p.name),
        ],
        async () => baseEnv(paths),
      ),
      ready: tcpOpen(p.address, p.port),
      timeoutMs: 30_000,
    }),
  );

  return { orchestrator, processors };
}

/**
 * The agent and service of one installed deployment (see src/deploy): what the supervisor runs
 * for a VM after `trellis deploy`. The agent reads its password from the installation, the
 * service gets the agent's env file — it reaches its contracts only through the agent.
 */
export function planDeployment(
  d: Deployment,
  ctx: { paths: LabPaths; commands: LabCommands },
): { agent: PlannedChild; workload: PlannedChild | null } {
  const { paths, commands } = ctx;
  const spec = specMaker(paths);
  const envFile = paths.envFile(d.vm);
  let started = false;
  const agent: PlannedChild = {
    spec: spec(
      `${d.vm}.agent`,
      'agent',
      2,
      [
        ...commands.agent,
        '--hostowner',
        d.hostOwner,
        '--domain',
        d.domain,
        '--password-file',
        paths.install(d.vm).password,
        '--orchestrator',
        d.orchestrator,
        ...(d.caFingerprint ? ['--ca-fingerprint', d.caFingerprint] : []),
        '--vm',
        d.vm,
        '--address',
        d.address,
        '--processors',
        d.processors.join(','),
        ...d.serve.flatMap((s) => ['--serve', s]),
        '--state-dir',
        paths.vmState(d.vm),
        '--env-path',
        envFile,
      ],
      async () => {
        // A file left by an earlier run names listeners that may be gone: readiness must
        // wait for this run's. Restarts keep the current file for the running workload.
        if (!started) await rm(envFile, { force: true });
        started = true;
        return baseEnv(paths);
      },
    ),
    ready: fileExists(envFile),
    timeoutMs: 30_000,
  };
  const w = d.workload;
  const workload: PlannedChild | null = w
    ? {
        spec: spec(
          `${d.vm}.workload`,
          'workload',
          3,
          [process.execPath, w.module, ...w.args],
          async () => ({
            ...baseEnv(paths),
            ...w.env,
            ...(await readEnvFile(envFile)),
            TRELLIS_VM_ADDRESS: d.address,
            // A workload that outlives a grant change can re-read its contracts from here.
            TRELLIS_ENV_FILE: envFile,
          }),
          w.cwd,
        ),
        ready: workloadReady(d.address, d.exposedPort ?? undefined, d.serve),
        timeoutMs: 30_000,
      }
    : null;
  return { agent, workload };
}

/** A workload is ready when its exposed port and every port its agent serves contracts to accept. */
function workloadReady(address: string, exposedPort: number | undefined, serve: string[]): Probe {
  const probes = serve.map((s) => {
    const target = s.slice(s.indexOf('=') + 1);
    const colon = target.lastIndexOf(':');
    return tcpOpen(target.slice(0, colon), Number(target.slice(colon + 1)));
  });
  if (exposedPort !== undefined) probes.push(tcpOpen(address, exposedPort));
  return async () => (await Promise.all(probes.map((p) => p()))).every(Boolean);
}
