import { z } from 'zod';
import { Name } from './names.js';

export const LinkStatus = z.enum(['up', 'down']);
export type LinkStatus = z.infer<typeof LinkStatus>;

/** Positive costs keep Dijkstra correct and make every extra hop cost something. */
export const LinkCost = z.number().int().min(1).max(1_000_000);

/** An undirected processor ↔ processor link. Its name is derived: `a--b` with a < b. */
export const Link = z.strictObject({
  name: z.string(),
  a: Name,
  b: Name,
  cost: LinkCost,
  status: LinkStatus,
});
export type Link = z.infer<typeof Link>;

export const LinkCreate = z
  .strictObject({
    a: Name,
    b: Name,
    cost: LinkCost.default(10),
    status: LinkStatus.default('up'),
  })
  .refine((l) => l.a !== l.b, { message: 'a link joins two different processors', path: ['b'] });
export type LinkCreate = z.infer<typeof LinkCreate>;

export const LinkUpdate = z.strictObject({ cost: LinkCost.optional(), status: LinkStatus.optional() });
export type LinkUpdate = z.infer<typeof LinkUpdate>;

export function linkName(a: string, b: string): string {
  return a < b ? `${a}--${b}` : `${b}--${a}`;
}
