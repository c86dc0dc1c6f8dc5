import { z } from 'zod';
import { Name } from './names.js';

/**
 * An enrolment token as the API shows it: who may enrol with it and how often. The secret is
 * shown once, at creation; the orchestrator keeps only its hash.
 */
export const EnrolmentTokenInfo = z.strictObject({
  id: z.string(),
  domain: Name,
  kind: z.enum(['hostOwner', 'switchOwner']),
  owner: Name,
  vm: Name.nullable().describe('the only node name it may register, when set'),
  uses: z.number().int().describe('how many times it has been used'),
  maxUses: z.number().int(),
  expiresAt: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().nullable(),
  status: z.enum(['active', 'used', 'expired', 'revoked']),
});
export type EnrolmentTokenInfo = z.infer<typeof EnrolmentTokenInfo>;

export const EnrolmentTokenRequest = z
  .strictObject({
    hostOwner: Name.optional(),
    switchOwner: Name.optional(),
    domain: Name.optional(),
    vm: Name.optional(),
    ttlSec: z
      .number()
      .int()
      .min(10)
      .max(30 * 86_400)
      .default(3600),
    uses: z.number().int().min(1).max(1000).default(1),
  })
  .refine((b) => (b.hostOwner === undefined) !== (b.switchOwner === undefined), {
    message: 'name exactly one of hostOwner and switchOwner',
    path: ['hostOwner'],
  });
export type EnrolmentTokenRequest = z.infer<typeof EnrolmentTokenRequest>;
