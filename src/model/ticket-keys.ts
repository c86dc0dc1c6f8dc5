import { z } from 'zod';
import { PublishedTicketKey } from './node.js';

/** One flow-ticket key as GET /ca/ticket-keys describes it (systemAdmin). */
export const TicketKeyInfo = z.object({
  id: z.string(),
  signing: z.boolean(),
  activatesAt: z.string().nullable(),
  retiresAt: z.string().nullable(),
  publicKeyPem: z.string(),
});
export type TicketKeyInfo = z.infer<typeof TicketKeyInfo>;

/** What POST /ca/rotate-ticket-key answers. */
export const RotateAnswer = z.object({
  keyId: z.string().describe('the new key, 8 hex digits'),
  activatesAt: z.string().describe('when it starts signing (ISO 8601): after every node has it'),
  retires: z
    .array(z.object({ keyId: z.string(), at: z.string() }))
    .describe('keys that stop verifying, and when'),
  ticketKeys: z.array(PublishedTicketKey),
});
export type RotateAnswer = z.infer<typeof RotateAnswer>;
