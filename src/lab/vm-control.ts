import { readDeployment } from '../deploy/manifest.js';
import { TrellisError } from '../errors.js';
import type { LabControl } from './control.js';
import { type LabCommands, type PlannedChild, planDeployment } from './plan.js';
import type { LabPaths } from './state.js';
import type { Supervisor } from './supervisor.js';

/**
 * The supervisor's side of `trellis deploy` and `trellis purge`: start the agent and then the
 * service installed on a VM (each ready before the next), or stop them, service first. One
 * request per VM at a time; different VMs proceed in parallel.
 */
export function vmControl(o: {
  vms: string[];
  paths: LabPaths;
  commands: LabCommands;
  supervisor: Supervisor;
  /** Starts a child and waits until it is ready; throws with its log's tail if it is not. */
  start(child: PlannedChild, label: string): Promise<void>;
  stopping(): boolean;
  /** A VM's host owner changed (`domain/owner`, or null once stopped). */
  onHostOwner(vm: string, owner: string | null): Promise<void>;
  log(line: string): void;
}): LabControl {
  const queue = new Map<string, Promise<unknown>>();
  const serialized = (vm: string, job: () => Promise<void>) => {
    const next = (queue.get(vm) ?? Promise.resolve()).catch(() => undefined).then(job);
    queue.set(vm, next);
    return next;
  };
  const { supervisor } = o;
  return {
    startVm: (vm) =>
      serialized(vm, async () => {
        if (o.stopping()) throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', 'the lab is stopping');
        if (!o.vms.includes(vm))
          throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `no virtual machine "${vm}" in the lab`);
        const d = await readDeployment(o.paths.install(vm));
        if (!d) throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `nothing is installed on ${vm}`);
        if (supervisor.has(`${vm}.agent`)) return;
        const planned = planDeployment(d, { paths: o.paths, commands: o.commands });
        try {
          await o.start(planned.agent, `agent of vm ${vm} (${d.address}, ${d.domain}/${d.hostOwner})`);
          if (planned.workload) await o.start(planned.workload, `workload of vm ${vm}`);
        } catch (err) {
          await supervisor.remove(`${vm}.workload`);
          await supervisor.remove(`${vm}.agent`);
          throw err;
        }
        // A stop that began meanwhile owns state.json now: leave it alone.
        if (!o.stopping()) await o.onHostOwner(vm, `${d.domain}/${d.hostOwner}`);
      }),
    stopVm: (vm) =>
      serialized(vm, async () => {
        const had = supervisor.has(`${vm}.agent`);
        // The service first: it must not outlive the agent that is its only way out.
        await supervisor.remove(`${vm}.workload`);
        await supervisor.remove(`${vm}.agent`);
        if (had) o.log(`stopped the agent and service of vm ${vm}`);
        if (!o.stopping()) await o.onHostOwner(vm, null);
      }),
  };
}
