import { z } from 'zod';

/** Who changed what, when, with the entity before and after (secrets never included). */
export const AuditEntry = z.strictObject({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  // refuse: a write turned down for security (a node name claimed with another key); use: an
  // enrolment token spent.
  action: z.enum(['create', 'update', 'delete', 'refuse', 'use']),
  kind: z.string(),
  name: z.string(),
  domain: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
