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
  // Any JSON value, null included (unknown covers it: `.nullable()` would only add an empty anyOf arm).
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
