import { z } from 'zod';
import {
  type CloudHost,
  type Conversion,
  type ConvertOptions,
  parseCloudJson,
  roleGroupOf,
  splitList,
} from './cloud.js';

/** Just the fields of `aws ec2 describe-instances --output json` read here; others pass. */
const Tag = z.object({ Key: z.string(), Value: z.string() });
const Instance = z.object({
  InstanceId: z.string(),
  State: z.object({ Name: z.string() }),
  PublicIpAddress: z.string().optional(),
  PrivateIpAddress: z.string().optional(),
  Tags: z.array(Tag).optional(),
});
const DescribeInstances = z.object({
  Reservations: z.array(z.object({ Instances: z.array(Instance) })),
});

/** Running instances only; hostname from `trellis-name`, else the `Name` tag, else the id. */
export function fromAws(data: unknown, opts: ConvertOptions, source = 'input'): Conversion {
  const parsed = parseCloudJson(DescribeInstances, data, 'aws', source);
  const hosts: CloudHost[] = [];
  const warnings: string[] = [];
  for (const r of parsed.Reservations)
    for (const i of r.Instances) {
      const tags = new Map((i.Tags ?? []).map((t) => [t.Key, t.Value]));
      const cloudName = tags.get('Name')?.trim() || undefined;
      const label = cloudName === undefined ? i.InstanceId : `${i.InstanceId} (${cloudName})`;
      if (i.State.Name !== 'running') continue;
      const address = opts.private ? i.PrivateIpAddress : i.PublicIpAddress;
      if (address === undefined || address === '') {
        warnings.push(
          `skipped ${label}: no ${opts.private ? 'PrivateIpAddress' : 'PublicIpAddress'}${opts.private ? '' : ' (use --private from inside its VPC)'}`,
        );
        continue;
      }
      hosts.push({
        name: tags.get('trellis-name')?.trim() || cloudName || i.InstanceId,
        label,
        address,
        group: roleGroupOf(tags.get('trellis-role'), label, 'tag'),
        processors: splitList(tags.get('trellis-processors')),
      });
    }
  return { hosts, warnings };
}
