import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import { type DenyCode, denyLabel } from '../deny-codes.js';
import { eventLagHistogram, observeEventLag } from '../metrics/event-lag.js';
import { createRegistry } from '../metrics/registry.js';
import { HealthMetrics } from '../node/dataplane/health-metrics.js';
import { formatContractId } from '../wire/node-id.js';

/** The admin listener's port when `--admin-listen` is not given (on the data plane's host). */
export const DEFAULT_ADMIN_PORT = 9901;

/**
 * A processor's metrics, served on its admin listener: flows and bytes per contract ID (the
 * processor sees IDs, not names; written 0x0000002a as `trellis get contracts` shows them),
 * open flows, refusals by rule, and policy event lag.
 */
export class ProcessorMetrics {
  readonly registry: Registry;
  readonly #flows: Counter<'contract_id'>;
  readonly #bytes: Counter<'contract_id'>;
  readonly #active: Gauge;
  readonly #denials: Counter<'reason'>;
  readonly #lag: Histogram;
  /** Ejections, restores and failovers (metrics/health.ts). */
  readonly health: HealthMetrics;

  constructor(opts: { processMetrics?: boolean } = {}) {
    this.registry = createRegistry('processor', opts);
    const registers = [this.registry];
    this.#flows = new Counter({
      name: 'trellis_flows_total',
      help: 'Flows forwarded (accepted by verifyHop and the next hop), by contract ID',
      labelNames: ['contract_id'],
      registers,
    });
    this.#bytes = new Counter({
      name: 'trellis_flow_bytes_total',
      help: 'Bytes carried by forwarded flows, both directions, by contract ID',
      labelNames: ['contract_id'],
      registers,
    });
    this.#active = new Gauge({ name: 'trellis_flows_active', help: 'Flows open now', registers });
    this.#denials = new Counter({
      name: 'trellis_denials_total',
      help: 'Flows this processor refused, by rule (no-ticket, bad-signature, expired, wrong-hop, …)',
      labelNames: ['reason'],
      registers,
    });
    this.#lag = eventLagHistogram(this.registry);
    this.health = new HealthMetrics(this.registry);
  }

  flowOpened(contractId: number): void {
    this.#flows.inc({ contract_id: formatContractId(contractId) });
    this.#active.inc();
  }

  flowBytes(contractId: number, bytes: number): void {
    if (bytes > 0) this.#bytes.inc({ contract_id: formatContractId(contractId) }, bytes);
  }

  flowClosed(): void {
    this.#active.dec();
  }

  /** A refusal made here (not one relayed from a later hop), by its code's label. */
  denied(code: DenyCode): void {
    this.#denials.inc({ reason: denyLabel(code) });
  }

  /** Call when an event has been handled: a `policy` event's lag is observed. */
  eventApplied(event: string, data: unknown): void {
    observeEventLag(this.#lag, event, data);
  }
}
