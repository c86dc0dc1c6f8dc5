import { z } from 'zod';

/**
 * A processor's flow tables: one schema for what a processor reports (PUT …/flows), what the
 * orchestrator keeps, and what `trellis flows` and the console read (GET …/flows, with names).
 */

/** The seed's table 50: one entry per flow, dropped 60 s after it was last active. */
export const FlowEntry = z.strictObject({
  srcNodeId: z.string().max(64),
  dstNodeId: z.string().max(64),
  contractId: z.number().int().min(0),
  flowLabel: z.number().int().min(0),
  inPort: z.string().max(64),
  outPort: z.string().max(64),
  packets: z.number().int().min(0),
  bytes: z.number().int().min(0),
  idleAge: z.number().min(0),
  idleTimeout: z.number().int().min(0),
});
export type FlowEntry = z.infer<typeof FlowEntry>;

/** The seed's table 30: aggregate counters of everything through the processor. */
export const Table30 = z.strictObject({
  packets: z.number().int().min(0),
  bytes: z.number().int().min(0),
  flows: z.number().int().min(0),
});

/** What a processor sends: its counters and its most recently active table-50 entries. */
export const FlowTable = z.strictObject({
  table30: Table30,
  /** How many entries the processor holds; `table50` carries the most recently active ones. */
  table50Total: z.number().int().min(0),
  table50: z.array(FlowEntry).max(10_000),
});
export type FlowTable = z.infer<typeof FlowTable>;

/** What the orchestrator keeps of a report: whose, and when (null: never reported). */
export const FlowTableReport = z.strictObject({
  processor: z.string(),
  reportedAt: z.string().nullable(),
  ...FlowTable.shape,
});
export type FlowTableReport = z.infer<typeof FlowTableReport>;

/**
 * A table-50 entry as the flows API answers it: the IDs with the names an operator knows
 * them by (null where the caller may not see that node or contract, or it is gone).
 */
export const NamedFlowEntry = z.strictObject({
  ...FlowEntry.shape,
  srcNode: z.string().nullable(),
  dstNode: z.string().nullable(),
  /** `domain/contract`. */
  contract: z.string().nullable(),
});
export type NamedFlowEntry = z.infer<typeof NamedFlowEntry>;

export const NamedFlowTableReport = z.strictObject({
  ...FlowTableReport.shape,
  table50: z.array(NamedFlowEntry),
});
export type NamedFlowTableReport = z.infer<typeof NamedFlowTableReport>;
