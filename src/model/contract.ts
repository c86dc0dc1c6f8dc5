import { z } from 'zod';
import { Description, Name } from './names.js';
import { Role } from './role.js';

/** In audit mode flows that would be denied pass and are recorded as would-deny. */
export const ContractMode = z.enum(['enforce', 'audit']);
export type ContractMode = z.infer<typeof ContractMode>;

/** 32-bit, assigned by the orchestrator, unique across the fabric; never 0. */
export const ContractId = z.number().int().min(1).max(0xffff_ffff);

/** An edge of the service graph, with exactly two roles: client and server. */
export const Contract = z.strictObject({
  name: Name,
  domain: Name,
  id: ContractId,
  description: z.string(),
  mode: ContractMode,
  /** The server agent prepends a PROXY protocol v2 header carrying the client's address. */
  proxyProtocol: z.boolean(),
  roles: z.array(Role),
});
export type Contract = z.infer<typeof Contract>;

export const ContractCreate = z.strictObject({
  name: Name,
  description: Description.default(''),
  mode: ContractMode.default('enforce'),
  proxyProtocol: z.boolean().default(false),
  roles: z
    .strictObject({
      client: Role.omit({ name: true }).partial().optional(),
      server: Role.omit({ name: true }).partial().optional(),
    })
    .optional(),
});
export type ContractCreate = z.infer<typeof ContractCreate>;

export const ContractUpdate = z.strictObject({
  description: Description.optional(),
  mode: ContractMode.optional(),
  proxyProtocol: z.boolean().optional(),
});
export type ContractUpdate = z.infer<typeof ContractUpdate>;
