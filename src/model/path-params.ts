import { z } from 'zod';
import { Name } from './names.js';

/**
 * Constraints on the path of one role's traffic, in the seed's shape:
 * `{"role":"server","contract":"voting-frontend","transit":"aws-p2"}`.
 * `role`/`contract` name the peer role and this contract (checked against the role they are
 * set on); `transit` is one processor or an ordered list visited in that order; `avoid` and
 * `maxHops` go beyond the seed.
 */
export const PathParams = z.strictObject({
  role: z.enum(['client', 'server']).optional(),
  contract: Name.optional(),
  transit: z.union([Name, z.array(Name).max(16)]).optional(),
  avoid: z.array(Name).max(256).optional(),
  maxHops: z.number().int().min(1).max(64).optional(),
});
export type PathParams = z.infer<typeof PathParams>;

/** `transit` as the ordered list it means. */
export function transitList(p: PathParams): string[] {
  if (p.transit === undefined) return [];
  return typeof p.transit === 'string' ? [p.transit] : p.transit;
}

/** Every processor name the params mention, with the field path that mentions it. */
export function mentionedProcessors(p: PathParams): { name: string; field: string }[] {
  const out: { name: string; field: string }[] = [];
  if (typeof p.transit === 'string') out.push({ name: p.transit, field: 'transit' });
  else for (const [i, name] of (p.transit ?? []).entries()) out.push({ name, field: `transit[${i}]` });
  for (const [i, name] of (p.avoid ?? []).entries()) out.push({ name, field: `avoid[${i}]` });
  return out;
}
