import type { PathConstraints } from './constraints.js';
import type { Graph } from './graph.js';
import { MAX_PATH_LINKS, MAX_PATH_PROCESSORS } from './params-check.js';
import { fail, listOf, type PathResult } from './result.js';
import { computePath } from './route.js';

/**
 * The path of a flow: computePath with the ticket's limit as one more hop limit, so a path
 * too long to sign is either replaced by a shorter one that fits or refused here, naming the
 * limit — never handed to the ticket encoder, which would throw.
 */
export function routeFlow(graph: Graph, from: string, to: string, c: PathConstraints): PathResult {
  const own = c.maxHops;
  if (own !== undefined && own <= MAX_PATH_LINKS) return computePath(graph, from, to, c);
  const res = computePath(graph, from, to, { ...c, maxHops: MAX_PATH_LINKS });
  // Blamed on the hop limit that only the ticket set: say so instead of a maxHops nobody wrote.
  if (res.ok || res.constraint !== 'maxHops') return res;
  const via = c.waypoints.length > 0 ? ` via ${listOf(c.waypoints)}` : '';
  return fail(
    'ticket',
    `no path from ${from} to ${to}${via} fits in a flow ticket, which carries at most ${MAX_PATH_PROCESSORS} processors (${MAX_PATH_LINKS} links)`,
  );
}
