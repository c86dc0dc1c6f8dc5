import { z } from 'zod';
import {
  type CloudHost,
  type Conversion,
  type ConvertOptions,
  parseCloudJson,
  roleGroupOf,
  splitList,
} from './cloud.js';

/** Just the fields of `gcloud compute instances list --format=json` read here; others pass. */
const Instance = z.object({
  name: z.string(),
  status: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  // GCP label values cannot hold commas, so a VM's processors come from instance metadata.
  metadata: z
    .object({ items: z.array(z.object({ key: z.string(), value: z.string().optional() })).optional() })
    .optional(),
  networkInterfaces: z
    .array(
      z.object({
        networkIP: z.string().optional(),
        accessConfigs: z.array(z.object({ natIP: z.string().optional() })).optional(),
      }),
    )
    .optional(),
});
const InstancesList = z.array(Instance);

/** RUNNING instances; public = first interface's first access config's natIP, private = its networkIP. */
export function fromGcp(data: unknown, opts: ConvertOptions, source = 'input'): Conversion {
  const parsed = parseCloudJson(InstancesList, data, 'gcp', source);
  const hosts: CloudHost[] = [];
  const warnings: string[] = [];
  for (const i of parsed) {
    if (i.status !== 'RUNNING') continue;
    const nic = i.networkInterfaces?.[0];
    const address = opts.private ? nic?.networkIP : nic?.accessConfigs?.[0]?.natIP;
    if (address === undefined || address === '') {
      warnings.push(
        `skipped ${i.name}: no ${opts.private ? 'networkIP' : 'natIP (external address)'}${opts.private ? '' : ' (use --private from inside its VPC)'}`,
      );
      continue;
    }
    const metadata = new Map((i.metadata?.items ?? []).map((m) => [m.key, m.value ?? '']));
    hosts.push({
      name: i.labels?.['trellis-name'] || i.name,
      label: i.name,
      address,
      group: roleGroupOf(i.labels?.['trellis-role'], i.name, 'label'),
      processors: splitList(metadata.get('trellis-processors')),
    });
  }
  return { hosts, warnings };
}
