import { z } from 'zod';
import { OPTIONS } from './config.js';

/**
 * A ballot as it travels from voting-svc through voting-db to the worker. `seq` grows with
 * every ballot of one voter (voting-db assigns it), so the worker can keep the last choice and
 * ignore replays and reordering: a ballot only replaces one with a lower seq.
 */
export const BallotSchema = z
  .object({
    voterId: z.string().regex(/^[0-9a-f]{32}$/, 'voterId must be 32 lowercase hex digits (128 bits)'),
    vote: z.enum(OPTIONS as [string, ...string[]]),
    seq: z.number().int().min(1),
    ts: z.iso.datetime({ offset: true }),
  })
  .strict();

/**
 * A ballot as voting-svc casts it, checked before it is stored: voting-db adds the seq. Built
 * once here (zod compiles a schema when it is made, not worth doing per ballot).
 */
export const CastBallotSchema = BallotSchema.omit({ seq: true });

export type Ballot = z.infer<typeof BallotSchema> & { vote: (typeof OPTIONS)[number] };

export type ParsedBallot = { ok: true; ballot: Ballot } | { ok: false; error: string };

/** Validates an untrusted value (a queue item's body); the error names the offending fields. */
export function parseBallot(value: unknown): ParsedBallot {
  const r = BallotSchema.safeParse(value);
  if (r.success) return { ok: true, ballot: r.data as Ballot };
  const error = r.error.issues.map((i) => `${i.path.join('.') || '(ballot)'}: ${i.message}`).join('; ');
  return { ok: false, error };
}
