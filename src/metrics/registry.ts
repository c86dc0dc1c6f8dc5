import { collectDefaultMetrics, Registry } from 'prom-client';

/** Which program a registry belongs to: every series it exports carries it as `component`. */
export type Component = 'orchestrator' | 'processor' | 'agent';

/**
 * A fresh registry per orchestrator, processor or agent (tests run several in one process, and
 * a shared global registry would refuse the second set of metrics). It carries prom-client's
 * default process and Node.js metrics under their usual names (process_cpu_seconds_total,
 * nodejs_eventloop_lag_seconds, …) so stock dashboards work, and labels every series with the
 * component.
 */
export function createRegistry(component: Component, opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}
