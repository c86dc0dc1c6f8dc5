import { type PathParams, transitList } from '../../model/path-params.js';

/** What a flow's path must honour, already merged from both roles of the contract. */
export interface PathConstraints {
  /** Processors to visit in this order on the way from the client's to the server's processor. */
  waypoints: string[];
  /** Processors the path must never enter. */
  avoid: string[];
  /** Most links the path may traverse. */
  maxHops?: number;
}

/**
 * Constraints for one flow from the client node's processor to the server node's processor.
 *
 * A flow is a single bidirectional stream, so one path must satisfy both roles. The client
 * role states its transit in the client→server direction and the server role in the
 * server→client direction, hence the server's list is reversed and appended; a processor the
 * path already visits earlier is not asked for a second time.
 */
export function mergeRoleParams(client: PathParams, server: PathParams): PathConstraints {
  const waypoints = [...transitList(client)];
  const seen = new Set(waypoints);
  for (const name of [...transitList(server)].reverse()) {
    if (seen.has(name)) continue;
    seen.add(name);
    waypoints.push(name);
  }
  const avoid = [...new Set([...(client.avoid ?? []), ...(server.avoid ?? [])])];
  const limits = [client.maxHops, server.maxHops].filter((h): h is number => h !== undefined);
  const merged: PathConstraints = { waypoints, avoid };
  if (limits.length > 0) merged.maxHops = Math.min(...limits);
  return merged;
}

/**
 * Drops a waypoint equal to the one before it: the path is already standing on it, so it
 * counts as visited there rather than demanding a loop back to the same processor.
 */
export function collapseRepeats(waypoints: readonly string[]): string[] {
  return waypoints.filter((w, i) => i === 0 || waypoints[i - 1] !== w);
}
