import { z } from 'zod';
import { Name } from './names.js';
import { PathParams } from './path-params.js';

export const RoleName = z.enum(['client', 'server']);
export type RoleName = z.infer<typeof RoleName>;

export function peerRole(role: RoleName): RoleName {
  return role === 'client' ? 'server' : 'client';
}

/** One side of a contract: who may hold it (User Access List) and how its traffic is routed. */
export const Role = z.strictObject({
  name: RoleName,
  users: z.array(Name).max(1024).default([]),
  pathParams: PathParams.default({}),
});
export type Role = z.infer<typeof Role>;

export const RoleUpdate = z.strictObject({
  users: z.array(Name).max(1024).optional(),
  pathParams: PathParams.optional(),
});
export type RoleUpdate = z.infer<typeof RoleUpdate>;
