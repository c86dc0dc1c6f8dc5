import { type PathParams, type RoleName, transitList } from '../../model/index.js';
import { MAX_HOPS } from '../../wire/ticket.js';
import { mergeRoleParams, type PathConstraints } from './constraints.js';
import { type FailedConstraint, listOf } from './result.js';

/**
 * Most processors a flow's path may have: a flow ticket carries at most MAX_HOPS hops, one
 * per processor. `maxHops` counts links, so the longest path a ticket can carry has
 * MAX_PATH_PROCESSORS - 1 links.
 */
export const MAX_PATH_PROCESSORS = MAX_HOPS;
export const MAX_PATH_LINKS = MAX_PATH_PROCESSORS - 1;

/** Why path params can never be met, whatever the topology; `field` is under `pathParams`. */
export interface ParamsProblem {
  constraint: FailedConstraint;
  field: string;
  reason: string;
}

/** The reason `computePath` and the write-time check give for a processor both visited and avoided. */
export function visitedAndAvoided(name: string): string {
  return `transit ${name} is also in avoid; a path cannot both visit and avoid it`;
}

/**
 * Checks that need no topology, so the same answer holds at write time and when a flow is
 * routed: contradictions inside the merged constraints. computePath runs them first.
 */
export function constraintProblem(
  c: PathConstraints,
): { constraint: FailedConstraint; reason: string } | undefined {
  const avoided = new Set(c.avoid);
  for (const w of c.waypoints)
    if (avoided.has(w)) return { constraint: 'avoid', reason: visitedAndAvoided(w) };
  // Distinct consecutive waypoints are distinct processors, so k of them take at least k - 1
  // links even when the client's and server's processors are the first and last of them.
  const stops = c.waypoints.filter((w, i) => i === 0 || c.waypoints[i - 1] !== w);
  if (stops.length > MAX_PATH_PROCESSORS) {
    return {
      constraint: 'ticket',
      reason: `transit ${listOf(stops)} asks the path to visit ${stops.length} processors; a flow ticket carries at most ${MAX_PATH_PROCESSORS}`,
    };
  }
  if (c.maxHops !== undefined && stops.length - 1 > c.maxHops) {
    return {
      constraint: 'maxHops',
      reason: `maxHops ${c.maxHops} is fewer links than transit ${listOf(stops)} needs: visiting ${stops.length} processors in order takes at least ${stops.length - 1}`,
    };
  }
  return undefined;
}

/**
 * Refuses path params of one role (`own`) that no topology can satisfy, alone or merged with
 * the other role's params (`peer`, when known) exactly as the router merges them. The field
 * named is always in `own`: it is the role being written.
 */
export function checkRoleParams(
  role: RoleName,
  own: PathParams,
  peer?: PathParams,
): ParamsProblem | undefined {
  const transit = transitList(own);
  const tField = (i: number) => (typeof own.transit === 'string' ? 'transit' : `transit[${i}]`);
  // A list that comes back to a processor sends every flow around the same processors again
  // (the attack run's [aws-p2, gcp-p1]×8): it never adds a guarantee, only hops, so refuse it.
  const first = new Map<string, number>();
  for (const [i, name] of transit.entries()) {
    const j = first.get(name);
    if (j !== undefined) {
      return {
        constraint: 'transit',
        field: tField(i),
        reason: `transit lists ${name} twice (transit[${j}] and transit[${i}]); a path visits each transit processor once, so list it once`,
      };
    }
    first.set(name, i);
  }
  const avoid = own.avoid ?? [];
  const i = avoid.findIndex((a) => first.has(a));
  if (i >= 0) return { constraint: 'avoid', field: `avoid[${i}]`, reason: visitedAndAvoided(avoid[i]!) };
  const alone = constraintProblem(mergeRoleParams(own, {}));
  if (alone) return { ...alone, field: alone.constraint === 'maxHops' ? 'maxHops' : 'transit' };
  if (peer === undefined) return undefined;

  const client = role === 'client' ? own : peer;
  const server = role === 'client' ? peer : own;
  const other = role === 'client' ? 'server' : 'client';
  const merged = mergeRoleParams(client, server);
  const peerTransit = new Set(transitList(peer));
  const j = avoid.findIndex((a) => peerTransit.has(a));
  if (j >= 0) {
    return {
      constraint: 'avoid',
      field: `avoid[${j}]`,
      reason: `avoid ${avoid[j]} is in the ${other} role's transit; a path cannot both visit and avoid it`,
    };
  }
  const peerAvoid = new Set(peer.avoid ?? []);
  const k = transit.findIndex((t) => peerAvoid.has(t));
  if (k >= 0) {
    return {
      constraint: 'avoid',
      field: tField(k),
      reason: `transit ${transit[k]} is in the ${other} role's avoid; a path cannot both visit and avoid it`,
    };
  }
  // A processor both roles list is visited where the client's list puts it (docs/paths.md):
  // the documented merge settles that order, so it is not refused here.
  const both = constraintProblem(merged);
  if (both) {
    const field = both.constraint === 'maxHops' && own.maxHops === merged.maxHops ? 'maxHops' : 'transit';
    return { ...both, reason: `with the ${other} role's path params, ${both.reason}`, field };
  }
  return undefined;
}
