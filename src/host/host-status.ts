import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { HostLayout } from './layout.js';
import { UnitKind } from './unit.js';

/** What runs on a host: `trellis host status -o json` prints this; deploy and purge read it. */
export const UnitStatus = z.object({
  name: z.string(),
  kind: UnitKind,
  hash: z.string(),
  /** null while it is down (between a crash and its restart, or stopped). */
  pid: z.number().int().nullable(),
  restarts: z.number().int(),
  labels: z.record(z.string(), z.string()),
  log: z.string(),
});
export type UnitStatus = z.infer<typeof UnitStatus>;

export const HostStatus = z.object({
  root: z.string(),
  manager: z.enum(['supervise', 'systemd', 'none']),
  /** The supervisor's pid (supervise), null when it is not running. */
  pid: z.number().int().nullable(),
  /** Release ids unpacked on this host; the last one is what bin/trellis runs. */
  releases: z.array(z.string()),
  units: z.array(UnitStatus),
});
export type HostStatus = z.infer<typeof HostStatus>;

/** What the supervisor last wrote; undefined when it never ran (or the file is damaged). */
export async function readSuperviseStatus(
  layout: HostLayout,
): Promise<{ pid: number; units: UnitStatus[] } | undefined> {
  try {
    const parsed = z
      .object({ pid: z.number().int(), units: z.array(UnitStatus) })
      .safeParse(JSON.parse(await readFile(layout.status, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
