import type { FlowEntry as ReportedFlowEntry } from '../model/flow-table.js';
import type { Counters } from '../node/dataplane/splice.js';

export const IDLE_TIMEOUT_S = 60;
export const REPORT_LIMIT = 1000;

/**
 * A table-50 entry as the processor keeps it: one flow through this processor (the seed's
 * per-flow OVS rule) — the reported entry's keys (model/flow-table.ts) with live counters.
 */
export interface FlowEntry
  extends Counters,
    Pick<ReportedFlowEntry, 'srcNodeId' | 'dstNodeId' | 'contractId' | 'flowLabel' | 'inPort' | 'outPort'> {
  open: boolean;
  /** What of packets/bytes is already in table 30. */
  accounted: { packets: number; bytes: number };
}

/**
 * Per-processor flow tables, as the seed's OVS tables: table 30 aggregates all data through
 * the processor; table 50 has one entry per flow, kept 60 s after it was last active.
 */
export class FlowTable {
  readonly table30 = { packets: 0, bytes: 0, flows: 0 };
  readonly #entries = new Map<string, FlowEntry>();
  /** Flows still carrying data: folded into table 30 by one periodic pass, not a timer each. */
  readonly #open = new Set<FlowEntry>();

  open(e: Omit<FlowEntry, 'packets' | 'bytes' | 'lastActive' | 'open' | 'accounted'>): FlowEntry {
    const entry: FlowEntry = {
      ...e,
      packets: 0,
      bytes: 0,
      lastActive: Date.now(),
      open: true,
      accounted: { packets: 0, bytes: 0 },
    };
    this.#entries.set(`${e.srcNodeId}|${e.contractId}|${e.flowLabel}`, entry);
    this.#open.add(entry);
    this.table30.flows++;
    return entry;
  }

  /** A flow ended: its last counts go into table 30; its entry stays until idle. */
  close(entry: FlowEntry, onBytes?: (e: FlowEntry, bytes: number) => void): void {
    this.#fold(entry, onBytes);
    entry.open = false;
    this.#open.delete(entry);
  }

  /** Folds what open flows carried since the last pass into table 30 (and reports it). */
  fold(onBytes?: (e: FlowEntry, bytes: number) => void): void {
    for (const e of this.#open) this.#fold(e, onBytes);
  }

  #fold(e: FlowEntry, onBytes?: (e: FlowEntry, bytes: number) => void): void {
    const bytes = e.bytes - e.accounted.bytes;
    this.table30.packets += e.packets - e.accounted.packets;
    this.table30.bytes += bytes;
    e.accounted = { packets: e.packets, bytes: e.bytes };
    if (bytes > 0) onBytes?.(e, bytes);
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
