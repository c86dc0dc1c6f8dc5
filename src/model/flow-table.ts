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
