import { Counter, type Histogram, type Registry } from 'prom-client';
import { denyLabel } from '../deny-codes.js';
import { eventLagHistogram, observeEventLag } from '../metrics/event-lag.js';
import { createRegistry } from '../metrics/registry.js';
import { HealthMetrics } from '../node/dataplane/health-metrics.js';
import type { DenialRecord } from '../node/runtime/denials.js';
import type { Stats } from './stats.js';

/**
 * An agent's metrics, served at /metrics on its local API. Flows and bytes are read from the
 * per-contract Stats (the source of /api/v1/service/stat) at scrape time, so the two never
 * disagree; denials are counted as the DenialReporter sees them, by contract and rule.
 */
export class AgentMetrics {
  readonly registry: Registry;
  readonly #denials: Counter<'contract' | 'reason'>;
  readonly #lag: Histogram;
  /** Ejections, restores and failovers (metrics/health.ts). */
  readonly health: HealthMetrics;

  constructor(stats: Stats, opts: { processMetrics?: boolean } = {}) {
    this.registry = createRegistry('agent', opts);
    const registers = [this.registry];
    new Counter({
      name: 'trellis_agent_flows_total',
      help: 'Flows set up, by contract and role (client: opened by local workloads; server: delivered to them)',
      labelNames: ['contract', 'role'],
      registers,
      collect() {
        this.reset();
        for (const s of stats.all()) {
          this.inc({ contract: s.contract, role: s.role }, s.role === 'client' ? s.flowsOut : s.flowsIn);
        }
      },
    });
    new Counter({
      name: 'trellis_agent_bytes_total',
      help: 'Bytes carried, by contract and direction (in: towards the local workload; out: from it)',
      labelNames: ['contract', 'direction'],
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, { in: number; out: number }>();
        for (const s of stats.all()) {
          const sum = sums.get(s.contract) ?? { in: 0, out: 0 };
          // For both roles Stats counts bytesIn towards the local workload, bytesOut from it.
          sum.in += s.bytesIn;
          sum.out += s.bytesOut;
          sums.set(s.contract, sum);
        }
        for (const [contract, sum] of sums) {
          this.inc({ contract, direction: 'in' }, sum.in);
          this.inc({ contract, direction: 'out' }, sum.out);
        }
      },
    });
    this.#denials = new Counter({
      name: 'trellis_agent_denials_total',
      help: 'Flows denied (audit-mode would-denies excluded), by contract and rule (the refusal code as a label)',
      labelNames: ['contract', 'reason'],
      registers,
    });
    this.#lag = eventLagHistogram(this.registry);
    this.health = new HealthMetrics(this.registry);
  }

  /** Hooked to the DenialReporter: every reported denial passes here. */
  denied(d: DenialRecord): void {
    if (d.kind !== 'deny') return;
    this.#denials.inc({ contract: d.contract, reason: denyLabel(d.code) });
  }

  /**
   * Call when an event has been handled (the bundle refresh settled), with the epoch of the
   * bundle now applied: a `policy` event's lag is observed if that bundle includes it.
   */
  eventApplied(event: string, data: unknown, appliedEpoch: number | undefined): void {
    observeEventLag(this.#lag, event, data, appliedEpoch ?? -1);
  }
}
