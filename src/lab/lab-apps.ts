import { type AppSpec, type LoadedApp, loadAppFile, type ServiceSpec } from '../app/app-file.js';
import type { LabProblem, LoadedLab, RunSpec } from './lab-file.js';

/**
 * What runs on the lab's VMs, as app files: the lab deploys through the same `deploy` as real
 * hosts, and that reads an app file. The lab file's `apps:` are loaded as they are; a `run`
 * that describes its workload inline (the older lab-file form) becomes a service of a
 * synthesised app for its domain, written to the lab directory so later deploys read it too.
 */

export interface LabApps {
  /** By domain: the app file deploy reads (loaded, or synthesised from inline runs). */
  byDomain: Map<string, LabApp>;
  /** Synthesised apps the caller writes to disk (their `file` is where). */
  synthesised: LabApp[];
}

export interface LabApp {
  spec: AppSpec;
  /** The app file on disk (given, or where a synthesised one is written). */
  file: string;
}

/** A run entry that says more than who runs there describes its workload inline. */
export function isInline(run: RunSpec): boolean {
  return run.workload !== undefined || run.serve.length > 0 || run.expose !== undefined;
}

export async function labApps(lab: LoadedLab, synthesisedFile: (domain: string) => string): Promise<LabApps> {
  const loaded: LoadedApp[] = [];
  for (const f of lab.spec.apps) loaded.push(await loadAppFile(lab.resolvePath(f)));
  const result = planLabApps(lab, loaded, synthesisedFile);
  if (result.problems.length > 0) throw lab.problemError(result.problems);
  return result.apps;
}

/** Pure: the lab's apps from the loaded app files and the lab file's inline runs. */
export function planLabApps(
  lab: LoadedLab,
  loaded: LoadedApp[],
  synthesisedFile: (domain: string) => string,
): { apps: LabApps; problems: LabProblem[] } {
  const problems: LabProblem[] = [];
  const byDomain = new Map<string, LabApp>();
  loaded.forEach((a, i) => {
    if (byDomain.has(a.spec.domain)) {
      problems.push({
        path: ['apps', i],
        message: `${a.file} and ${byDomain.get(a.spec.domain)!.file} both describe domain ${a.spec.domain}`,
      });
    }
    byDomain.set(a.spec.domain, { spec: a.spec, file: a.file });
  });
  const synthesised = new Map<string, LabApp>();
  lab.spec.vms.forEach((vm, i) => {
    const run = vm.run;
    if (!run) return;
    const given = byDomain.get(run.domain);
    if (!isInline(run)) {
      if (!given?.spec.services[run.hostOwner]) {
        problems.push({
          path: ['vms', i, 'run', 'hostOwner'],
          message: given
            ? `${given.file} describes no service for host owner "${run.hostOwner}"`
            : `no app file of the lab describes domain ${run.domain} (list it under apps:, or describe the workload inline)`,
        });
      }
      return;
    }
    if (given) {
      problems.push({
        path: ['vms', i, 'run'],
        message: `domain ${run.domain} comes from ${given.file}: name the host owner only, the app file says what runs`,
      });
      return;
    }
    let app = synthesised.get(run.domain);
    if (!app) {
      app = {
        spec: { apiVersion: 'trellis/v1', kind: 'App', domain: run.domain, services: {} },
        file: synthesisedFile(run.domain),
      };
      synthesised.set(run.domain, app);
    }
    const service = inlineService(lab, run, ['vms', i, 'run'], problems);
    const before = app.spec.services[run.hostOwner];
    if (before && JSON.stringify(before) !== JSON.stringify(service)) {
      problems.push({
        path: ['vms', i, 'run'],
        message: `host owner ${run.domain}/${run.hostOwner} is described differently on another VM: one service per host owner`,
      });
    }
    app.spec.services[run.hostOwner] = service;
  });
  for (const [d, a] of synthesised) byDomain.set(d, a);
  return { apps: { byDomain, synthesised: [...synthesised.values()] }, problems };
}

const SERVE = /^([a-z0-9-]+)=\{address\}:(\d{1,5})$/;

function inlineService(
  lab: LoadedLab,
  run: RunSpec,
  path: LabProblem['path'],
  problems: LabProblem[],
): ServiceSpec {
  const serve: Record<string, number> = {};
  run.serve.forEach((s, j) => {
    const m = SERVE.exec(s);
    if (!m) {
      problems.push({
        path: [...path, 'serve', j],
        message: `must read CONTRACT={address}:PORT: a lab VM's agent delivers to the VM's own address`,
      });
      return;
    }
    serve[m[1]!] = Number(m[2]);
  });
  const w = run.workload;
  return {
    ...(w && { module: lab.resolvePath(w.module) }),
    args: w?.args ?? [],
    env: w?.env ?? {},
    serve,
    ...(run.expose && { expose: { port: run.expose.port, paths: run.expose.paths } }),
  };
}

/** The name a VM's exposed service is listed under in `lab status` (its expose name, else its host owner). */
export function exposeName(run: RunSpec): string {
  return run.expose?.name ?? run.hostOwner;
}
