import { z } from 'zod';
import { Name, Password } from './names.js';

/** hostOwner owns workload nodes (one per microservice); switchOwner owns processors. */
export const ResourceUserKind = z.enum(['hostOwner', 'switchOwner']);
export type ResourceUserKind = z.infer<typeof ResourceUserKind>;

export const ResourceUser = z.strictObject({
  name: Name,
  domain: Name,
  kind: ResourceUserKind,
});
export type ResourceUser = z.infer<typeof ResourceUser>;

export const ResourceUserCreate = z.strictObject({
  name: Name,
  kind: ResourceUserKind,
  password: Password,
});
export type ResourceUserCreate = z.infer<typeof ResourceUserCreate>;
