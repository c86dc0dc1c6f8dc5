import { z } from 'zod';
import { DENY_CODE_LIST, MAX_DENY_CODE, parseDenyCode } from '../deny-codes.js';
import { Name } from './names.js';

export { DENY_CODE_LIST, type DenyCode } from '../deny-codes.js';

/** The longest reason a denial report may carry (the orchestrator refuses longer ones). */
export const MAX_DENIAL_REASON = 1024;

/**
 * A refused (or, in audit mode, would-be refused) flow, as the hop that refused it reports it:
 * `code` is the rule (src/deny-codes.ts), `reason` the human text naming contract and nodes.
 */
export const DenialRecord = z.strictObject({
  kind: z.enum(['deny', 'would-deny']),
  domain: Name,
  contract: Name,
  contractId: z.number().int().min(0).max(0xffff_ffff),
  role: z.enum(['client', 'server']),
  src: z.string().max(64).nullable(),
  dst: z.string().max(64).nullable(),
  code: z.enum(DENY_CODE_LIST),
  reason: z.string().max(MAX_DENIAL_REASON),
});
export type DenialRecord = z.infer<typeof DenialRecord>;

/**
 * One denial in a node's report (POST /nodes/NAME/denials): the record and when it happened.
 * The code is read as parseDenyCode reads a peer's: a node older than the codes sends none
 * (NO_CODE), a newer one may send one this orchestrator does not know (UNKNOWN_CODE). Either
 * is stored as such rather than refused: a refused batch would hold up every later report of
 * that node during a mixed-version upgrade.
 */
export const DenialReport = z.strictObject({
  at: z.iso.datetime(),
  ...DenialRecord.shape,
  code: z
    .string()
    .max(MAX_DENY_CODE)
    .optional()
    .transform((c) => parseDenyCode(c)),
});

/** A denial as the orchestrator stores and lists it: when, and which node reported it. */
export const Denial = z.strictObject({ ...DenialRecord.shape, at: z.string(), reportedBy: z.string() });
export type Denial = z.infer<typeof Denial>;

/** A node as a denial names it: the name an operator knows it by and its resource user. */
export const DenialNode = z.strictObject({ nodeId: z.string(), name: z.string(), owner: z.string() });
export type DenialNode = z.infer<typeof DenialNode>;

/**
 * A denial as the denials API lists it: the stored report with its names, or, with
 * `group`, one row standing for `count` reports of the same refusal (same code, contract, role
 * and nodes) between `firstAt` and `at` (the last).
 */
export const DenialView = z.strictObject({
  ...Denial.shape,
  /** The node the flow came from and the one it was for, where the denial knows them. */
  source: DenialNode.nullable(),
  destination: DenialNode.nullable(),
  count: z.number().int().min(1),
  firstAt: z.string(),
});
export type DenialView = z.infer<typeof DenialView>;
