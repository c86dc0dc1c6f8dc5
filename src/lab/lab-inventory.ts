import { join } from 'node:path';
import type { AddressPlan } from './addresses.js';
import { LAB_ORCHESTRATOR_HOST, type LabSpec } from './lab-file.js';

/**
 * Pure: the lab as an Ansible inventory of hosts on this machine — the orchestrator, the
 * processors and the VMs, each on its own loopback address with its own trellis_root — so
 * `lab up` deploys through `fabric up` and `deploy` exactly as onto real hosts, with a local
 * connection. `trellis_release: link` runs this machine's Trellis in place (nothing to copy),
 * and `trellis_service_manager: supervise` keeps the lab's units out of the machine's systemd.
 */
export function labInventory(spec: LabSpec, addresses: AddressPlan, hostsDir: string): object {
  const root = (name: string) => join(hostsDir, name);
  const o = addresses.orchestrator;
  return {
    all: {
      vars: {
        ansible_connection: 'local',
        trellis_release: 'link',
        trellis_service_manager: 'supervise',
        trellis_switch_owner: `${spec.switchOwner.domain}/${spec.switchOwner.name}`,
      },
      children: {
        orchestrator: {
          hosts: {
            [LAB_ORCHESTRATOR_HOST]: {
              ansible_host: o.address,
              trellis_port: o.port,
              trellis_root: root(LAB_ORCHESTRATOR_HOST),
            },
          },
        },
        processors: {
          hosts: Object.fromEntries(
            addresses.processors.map((p) => [
              p.name,
              { ansible_host: p.address, trellis_port: p.port, trellis_root: root(p.name) },
            ]),
          ),
        },
        vms: {
          hosts: Object.fromEntries(
            addresses.vms.map((v) => [
              v.name,
              {
                ansible_host: v.address,
                trellis_processors: spec.vms.find((s) => s.name === v.name)!.processors,
                trellis_root: root(v.name),
              },
            ]),
          ),
        },
      },
    },
  };
}
