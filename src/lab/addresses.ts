import type { LabProblem, LabSpec } from './lab-file.js';

/**
 * The lab's address plan. Every processor and VM gets its own loopback address, so each looks
 * like a separate host: processors take 127.0.1.N and VMs 127.0.2.N (N = 1, 2, … in file order,
 * skipping addresses the file gives explicitly). The orchestrator keeps its own address.
 */

export const PROCESSOR_NET = '127.0.1';
export const VM_NET = '127.0.2';

export interface AddressPlan {
  orchestrator: { address: string; port: number };
  processors: { name: string; address: string; port: number }[];
  vms: { name: string; address: string }[];
}

export type PlanResult = { ok: true; plan: AddressPlan } | { ok: false; problems: LabProblem[] };

export function planAddresses(spec: LabSpec): PlanResult {
  const problems: LabProblem[] = [];
  const taken = new Map<string, string>([[spec.orchestrator.address, 'the orchestrator']]);
  const claim = (address: string, owner: string, path: LabProblem['path']) => {
    const other = taken.get(address);
    if (other !== undefined) problems.push({ path, message: `${address} is already used by ${other}` });
    taken.set(address, owner);
  };
  // Explicit addresses first, so allocation never hands out one that a later entry names.
  spec.processors.forEach((p, i) => {
    if (p.address) claim(p.address, `processor ${p.name}`, ['processors', i, 'address']);
  });
  spec.vms.forEach((vm, i) => {
    if (vm.address) claim(vm.address, `vm ${vm.name}`, ['vms', i, 'address']);
  });
  const allocate = (net: string, owner: string, path: LabProblem['path']): string => {
    for (let n = 1; n <= 254; n++) {
      const address = `${net}.${n}`;
      if (!taken.has(address)) {
        taken.set(address, owner);
        return address;
      }
    }
    problems.push({ path, message: `no free address left in ${net}.0/24` });
    return '';
  };
  const processors = spec.processors.map((p, i) => ({
    name: p.name,
    address: p.address ?? allocate(PROCESSOR_NET, `processor ${p.name}`, ['processors', i]),
    port: p.port,
  }));
  const vms = spec.vms.map((vm, i) => ({
    name: vm.name,
    address: vm.address ?? allocate(VM_NET, `vm ${vm.name}`, ['vms', i]),
  }));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: { orchestrator: { ...spec.orchestrator }, processors, vms } };
}

/** `{address}` in serve entries and workload env values stands for the VM's own address. */
export function withAddress(template: string, address: string): string {
  return template.replaceAll('{address}', address);
}
