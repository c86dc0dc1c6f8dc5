import { z } from 'zod';
import {
  type CloudHost,
  type Conversion,
  type ConvertOptions,
  parseCloudJson,
  roleGroupOf,
  splitList,
} from './cloud.js';

/** Just the fields of `az vm list -d -o json` (`-d` adds powerState and the IPs) read here. */
const Vm = z.object({
  name: z.string(),
  id: z.string().optional(),
  powerState: z.string().nullable().optional(),
  publicIps: z.string().nullable().optional(),
  privateIps: z.string().nullable().optional(),
  tags: z.record(z.string(), z.string().nullable()).nullable().optional(),
});
const VmList = z.array(Vm);

/** `VM running` only; publicIps / privateIps are comma-separated when a VM has several: the first is used. */
export function fromAzure(data: unknown, opts: ConvertOptions, source = 'input'): Conversion {
  const parsed = parseCloudJson(VmList, data, 'azure', source);
  const hosts: CloudHost[] = [];
  const warnings: string[] = [];
  for (const vm of parsed) {
    if (vm.powerState === undefined && vm.publicIps === undefined && vm.privateIps === undefined)
      warnings.push(`${vm.name}: no powerState: this looks like \`az vm list\` without -d; it is skipped`);
    if (vm.powerState !== 'VM running') continue;
    const address = splitList((opts.private ? vm.privateIps : vm.publicIps) ?? undefined)[0];
    if (address === undefined) {
      warnings.push(
        `skipped ${vm.name}: no ${opts.private ? 'privateIps' : 'publicIps'}${opts.private ? '' : ' (use --private from inside its virtual network)'}`,
      );
      continue;
    }
    const tags = vm.tags ?? {};
    hosts.push({
      name: tags['trellis-name'] || vm.name,
      label: vm.name,
      address,
      group: roleGroupOf(tags['trellis-role'] ?? undefined, vm.name, 'tag'),
      processors: splitList(tags['trellis-processors'] ?? undefined),
    });
  }
  return { hosts, warnings };
}
