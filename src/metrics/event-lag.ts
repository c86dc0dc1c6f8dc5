import { Histogram, type Registry } from 'prom-client';

/**
 * Seconds from the orchestrator publishing a policy event (its `at`) to now; undefined for an
 * event without a readable `at` (a `hello`, or an orchestrator older than the field). Clocks
 * of different hosts disagree a little: a negative lag is counted as 0.
 */
export function eventLagSeconds(data: unknown, now = Date.now()): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const at = (data as { at?: unknown }).at;
  if (typeof at !== 'string') return undefined;
  const published = Date.parse(at);
  if (Number.isNaN(published)) return undefined;
  return Math.max(0, (now - published) / 1000);
}

/** trellis_event_lag_seconds: publish (orchestrator) to applied (this node). */
export function eventLagHistogram(registry: Registry): Histogram {
  return new Histogram({
    name: 'trellis_event_lag_seconds',
    help: 'Time from the orchestrator publishing a policy event to this node having applied it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

/**
 * Observes the lag of a policy event once the node has handled it; other events are ignored,
 * and so is a policy event whose epoch is past `appliedEpoch` (the refresh failed: nothing
 * was applied).
 */
export function observeEventLag(
  h: Histogram,
  event: string,
  data: unknown,
  appliedEpoch?: number,
  now = Date.now(),
): void {
  if (event !== 'policy') return;
  const epoch = (data as { epoch?: unknown } | null)?.epoch;
  if (appliedEpoch !== undefined && typeof epoch === 'number' && epoch > appliedEpoch) return;
  const lag = eventLagSeconds(data, now);
  if (lag !== undefined) h.observe(lag);
}
