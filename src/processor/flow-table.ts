import type { Counters } from '../dataplane/splice.js';

export const IDLE_TIMEOUT_S = 60;
export const REPORT_LIMIT = 1000;

/** A table-50 entry: one flow through this processor (the seed's per-flow OVS rule). */
export interface FlowEntry extends Counters {
  srcNodeId: string;
  dstNodeId: string;
  contractId: number;
  flowLabel: number;
  inPort: string;
  outPort: string;
  open: boolean;
}

/**
 * Per-processor flow tables, as the seed's OVS tables: table 30 aggregates all data through
 * the processor; table 50 has one entry per flow, kept 60 s after it was last active.
 */
export class FlowTable {
  readonly table30 = { packets: 0, bytes: 0, flows: 0 };
  readonly #entries = new Map<string, FlowEntry>();

  open(e: Omit<FlowEntry, 'packets' | 'bytes' | 'lastActive' | 'open'>): FlowEntry {
    const entry: FlowEntry = { ...e, packets: 0, bytes: 0, lastActive: Date.now(), open: true };
    this.#entries.set(`${e.srcNodeId}|${e.contractId}|${e.flowLabel}`, entry);
    this.table30.flows++;
    return entry;
  }

  /** Folds a finished (or still running) flow's counters into table 30. */
  account(delta: { packets: number; bytes: number }): void {
    this.table30.packets += delta.packets;
    this.table30.bytes += delta.bytes;
  }

  /** Drops entries idle longer than the timeout (open flows stay while they carry data). */
  expire(now = Date.now()): void {
    for (const [k, e] of this.#entries)
      if (now - e.lastActive > IDLE_TIMEOUT_S * 1000) this.#entries.delete(k);
  }

  /**
   * The tables as reported: table 50 limited to the `limit` most recently active entries, so a
   * processor carrying thousands of short flows does not ship megabytes every second.
   */
  snapshot(now = Date.now(), limit = REPORT_LIMIT) {
    this.expire(now);
    const entries = [...this.#entries.values()];
    const recent =
      entries.length <= limit ? entries : entries.sort((a, b) => b.lastActive - a.lastActive).slice(0, limit);
    return {
      table30: { ...this.table30 },
      table50Total: entries.length,
      table50: recent.map((e) => ({
        srcNodeId: e.srcNodeId,
        dstNodeId: e.dstNodeId,
        contractId: e.contractId,
        flowLabel: e.flowLabel,
        inPort: e.inPort,
        outPort: e.outPort,
        packets: e.packets,
        bytes: e.bytes,
        idleAge: Math.floor((now - e.lastActive) / 1000),
        idleTimeout: IDLE_TIMEOUT_S,
      })),
    };
  }
}
