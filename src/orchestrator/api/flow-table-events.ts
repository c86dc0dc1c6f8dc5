import type { FlowTableReport } from '../../model/flow-table.js';
import type { FabricEvent } from '../events.js';

/** The least time between two `flows` events of one processor: they push their table every second. */
export const FLOWS_EVENT_MS = 1_000;

interface Last {
  fingerprint: string;
  revision: number;
  sentAt: number;
  /** The latest changed report not yet announced, and the timer that will announce it. */
  pending?: FlowTableReport;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Turns processors' flow-table reports into `flows` events, bounded: a report that changed
 * nothing but idle ages is no event (an idle fabric is silent), and one processor gets at most
 * one event per FLOWS_EVENT_MS however often it pushes — the last change of a burst is announced
 * when the interval is over, so a watch never misses the final state. What changed is told by
 * table 30 (every byte through the processor moves its counters, every new flow its count) and
 * the number of table-50 entries (an entry gone idle): no walk over 10,000 entries per push.
 */
export class FlowTableEvents {
  readonly #last = new Map<string, Last>();

  constructor(
    private readonly publish: (e: FabricEvent) => void,
    private readonly intervalMs = FLOWS_EVENT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  reported(report: FlowTableReport): void {
    const { packets, bytes, flows } = report.table30;
    const fingerprint = `${packets} ${bytes} ${flows} ${report.table50Total}`;
    let last = this.#last.get(report.processor);
    if (!last) {
      last = { fingerprint: '', revision: 0, sentAt: Number.NEGATIVE_INFINITY };
      this.#last.set(report.processor, last);
    }
    if (last.fingerprint === fingerprint) return;
    last.fingerprint = fingerprint;
    last.revision++;
    const wait = last.sentAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.#announce(last, report);
      return;
    }
    last.pending = report;
    if (last.timer) return;
    const l = last;
    const timer = setTimeout(() => {
      l.timer = undefined;
      if (l.pending) this.#announce(l, l.pending);
    }, wait);
    timer.unref?.();
    l.timer = timer;
  }

  close(): void {
    for (const last of this.#last.values()) if (last.timer) clearTimeout(last.timer);
    this.#last.clear();
  }

  #announce(last: Last, report: FlowTableReport): void {
    last.pending = undefined;
    last.sentAt = this.now();
    this.publish({
      type: 'flows',
      processor: report.processor,
      revision: last.revision,
      reportedAt: report.reportedAt ?? new Date(last.sentAt).toISOString(),
      table50Total: report.table50Total,
      at: new Date(last.sentAt).toISOString(),
    });
  }
}
