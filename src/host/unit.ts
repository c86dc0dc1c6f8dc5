import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TrellisError } from '../errors.js';
import { Name } from '../model/index.js';

/**
 * A unit: one long-running Trellis process on a host (the orchestrator, a processor, an agent or
 * the workload it attaches), described the way a systemd service is — command, environment,
 * order, restart always — so the same description runs under systemd where it runs and under
 * `trellis supervise` where it does not. `trellis host apply` writes these; nothing else does.
 */
export const UnitKind = z.enum(['orchestrator', 'processor', 'agent', 'workload']);
export type UnitKind = z.infer<typeof UnitKind>;

export const Unit = z.strictObject({
  name: Name,
  kind: UnitKind,
  description: z.string().max(200),
  /** argv; [0] is an absolute executable path (systemd needs one). */
  exec: z.array(z.string().min(1)).min(1),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
  /** KEY=VALUE files read at every (re)start; a missing one is skipped (systemd's `-file`). */
  envFiles: z.array(z.string().min(1)),
  cwd: z.string().min(1),
  /** Units that start before this one and stop after it. */
  after: z.array(Name),
  /** What `trellis host apply` waits for before it calls the unit started. */
  ready: z.strictObject({
    tcp: z.array(z.string().regex(/^.+:\d{1,5}$/)),
    file: z.string().min(1).optional(),
  }),
  /** Who this unit is for (host owner, domain, vm, processor): read back by status and purge. */
  labels: z.record(z.string(), z.string()),
});
export type Unit = z.infer<typeof Unit>;

/** A file `trellis host apply` writes under the root before it starts units (tokens, env). */
export const HostFile = z.strictObject({
  /** Relative to the root, no `..`. */
  path: z
    .string()
    .min(1)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must stay under the root'),
  mode: z.number().int().min(0).max(0o777),
  content: z.string(),
  /** Written only when absent: a token is needed once, and a rewrite would restart nothing anyway. */
  ifAbsent: z.boolean().default(false),
});
export type HostFile = z.infer<typeof HostFile>;

/** What `trellis host apply -f -` reads on stdin. */
export const HostApply = z.strictObject({
  apiVersion: z.literal('trellis/v1'),
  kind: z.literal('HostApply'),
  units: z.array(Unit),
  files: z.array(HostFile).default([]),
  /** How long to wait for every unit's ready probe. */
  readyTimeoutMs: z.number().int().positive().max(600_000).default(60_000),
});
export type HostApply = z.input<typeof HostApply>;

/** Same description → same hash: an unchanged unit is not restarted by a repeated apply. */
export function unitHash(u: Unit): string {
  return createHash('sha256').update(JSON.stringify(u)).digest('hex').slice(0, 16);
}

/** Start order: a unit after those it names; names it does not know are ignored. */
export function startOrder(units: Unit[]): Unit[] {
  const byName = new Map(units.map((u) => [u.name, u]));
  const out: Unit[] = [];
  const seen = new Set<string>();
  const visit = (u: Unit, path: string[]) => {
    if (seen.has(u.name)) return;
    if (path.includes(u.name)) throw new Error(`units ${[...path, u.name].join(' → ')} form a cycle`);
    for (const a of u.after) {
      const dep = byName.get(a);
      if (dep) visit(dep, [...path, u.name]);
    }
    seen.add(u.name);
    out.push(u);
  };
  for (const u of [...units].sort((a, b) => a.name.localeCompare(b.name))) visit(u, []);
  return out;
}

/** A document from stdin, checked: the first problem named by its path (`units.0.name: …`). */
export function parseHostDocument<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    `${what}: ${issue.path.join('.') || 'input'}: ${issue.message}`,
  );
}
