import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { EjectReason, FailoverReason, HealthListener } from './health.js';

/**
 * Hung-peer handling, counted on the processor's and the agent's registries alike (the
 * `component` label tells them apart): every ejection of a peer that missed its PING or
 * handshake deadline, every return of one, and every flow that failed over away from a peer.
 * `peer` is a node name (a processor or a server workload node), never a client's address.
 */
export class HealthMetrics {
  readonly #ejections: Counter<'peer' | 'reason'>;
  readonly #restores: Counter<'peer'>;
  readonly #failovers: Counter<'peer' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#ejections = new Counter({
      name: 'trellis_peer_ejections_total',
      help: 'Pooled sessions destroyed because the peer stopped answering (reason: ping-timeout, connect-timeout); its flows fail over',
      labelNames: ['peer', 'reason'],
      registers,
    });
    this.#restores = new Counter({
      name: 'trellis_peer_restores_total',
      help: 'Ejected peers that answered a probe again and carry flows again',
      labelNames: ['peer'],
      registers,
    });
    this.#failovers = new Counter({
      name: 'trellis_failovers_total',
      help: 'Flows moved to the next processor or server instance, by the peer skipped and why (first-byte-timeout, unreachable, refused, ejected)',
      labelNames: ['peer', 'reason'],
      registers,
    });
  }

  ejected(peer: string, reason: EjectReason): void {
    this.#ejections.inc({ peer, reason });
  }

  restored(peer: string): void {
    this.#restores.inc({ peer });
  }

  failover(peer: string, reason: FailoverReason): void {
    this.#failovers.inc({ peer, reason });
  }
}

/** Tells the orchestrator (POST /api/v1/nodes/NAME/peer-health), which shows it as an event. */
export type PeerHealthReport = (r: {
  peer: string;
  state: 'ejected' | 'restored';
  reason?: EjectReason;
}) => void;

/**
 * The pool's listener on a node: each ejection and return counted, logged (a warning: an
 * operator acts on it) and reported, so `trellis get events` and the console show it.
 */
export function poolHealth(metrics: HealthMetrics, log: Logger, report?: PeerHealthReport): HealthListener {
  return {
    ejected(peer, endpoint, reason) {
      metrics.ejected(peer, reason);
      log.warn({ peer, endpoint, reason }, 'peer not answering: ejected, its flows fail over');
      report?.({ peer, state: 'ejected', reason });
    },
    restored(peer, endpoint) {
      metrics.restored(peer);
      log.info({ peer, endpoint }, 'peer answers again: restored');
      report?.({ peer, state: 'restored' });
    },
  };
}
