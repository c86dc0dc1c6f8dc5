/** A processor's flow tables as it reports them and `trellis flows` / the console show them. */
export interface FlowTableReport {
  processor: string;
  reportedAt: string | null;
  /** The seed's table 30: aggregate counters of everything through the processor. */
  table30: { packets: number; bytes: number; flows: number };
  /** How many table-50 entries the processor holds; `table50` carries the most recent ones. */
  table50Total: number;
  /** The seed's table 50: one entry per flow, dropped 60 s after it was last active. */
  table50: {
    srcNodeId: string;
    dstNodeId: string;
    contractId: number;
    flowLabel: number;
    inPort: string;
    outPort: string;
    packets: number;
    bytes: number;
    idleAge: number;
    idleTimeout: number;
  }[];
}

/**
 * A table-50 entry as the flows API answers it: the IDs with the names an operator knows
 * them by (null where the caller may not see that node or contract, or it is gone).
 */
export type FlowEntry = FlowTableReport['table50'][number];

export interface NamedFlowEntry extends FlowEntry {
  srcNode: string | null;
  dstNode: string | null;
  /** `domain/contract`. */
  contract: string | null;
}

export interface NamedFlowTableReport extends Omit<FlowTableReport, 'table50'> {
  table50: NamedFlowEntry[];
}
