import type { Contract, FabricNode, Link, RoleName } from '../../model/index.js';
import { buildGraph, mergeRoleParams, routeFlow } from '../paths/index.js';

/** At most this many warnings are spelled out; the rest are counted. */
const MAX_WARNINGS = 5;

/**
 * Why flows of a contract between its roles' current nodes would be refused by today's
 * topology, found exactly as the bundle routes them (connected processors, each workload at
 * its first connected processor, routeFlow with both roles' params merged). These are
 * warnings, not refusals: the topology changes under params (a link comes up, a node
 * registers), so refusing would make the order of writes matter and a flapping link block a
 * change. Each pair of processors is checked once, so the cost follows the processors, not
 * the number of workloads.
 */
export function pathWarnings(c: Contract, nodes: readonly FabricNode[], links: readonly Link[]): string[] {
  const processors = nodes
    .filter((n) => n.kind === 'processor' && n.status === 'connected')
    .map((n) => n.name);
  const live = new Set(processors);
  const holders = (role: RoleName) => new Set(c.roles.find((r) => r.name === role)?.users ?? []);
  const of = (role: RoleName) =>
    nodes.flatMap((n) => {
      if (n.kind !== 'workload' || n.domain !== c.domain || !holders(role).has(n.owner)) return [];
      const at = n.processors.find((p) => live.has(p));
      return at === undefined ? [] : [{ name: n.name, at }];
    });
  const clients = of('client');
  const servers = of('server');
  if (clients.length === 0 || servers.length === 0) return [];
  const graph = buildGraph({ processors, links: [...links] });
  const params = (role: RoleName) => c.roles.find((r) => r.name === role)?.pathParams ?? {};
  const constraints = mergeRoleParams(params('client'), params('server'));
  const seen = new Set<string>();
  const out: string[] = [];
  let more = 0;
  for (const s of clients) {
    for (const d of servers) {
      if (s.name === d.name) continue;
      const key = `${s.at}\u0000${d.at}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const res = routeFlow(graph, s.at, d.at, constraints);
      if (res.ok) continue;
      if (out.length === MAX_WARNINGS) {
        more++;
        continue;
      }
      out.push(
        `contract "${c.name}": no path today from ${s.name} (at ${s.at}) to ${d.name} (at ${d.at}): ${res.reason}; its flows are refused until the topology or the path params change`,
      );
    }
  }
  if (more > 0) out.push(`contract "${c.name}": ${more} more pairs of processors have no path today`);
  return out;
}
