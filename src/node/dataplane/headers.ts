/** HTTP/2 CONNECT headers that carry a flow between hops (as Istio ambient's HBONE does). */
export const H = {
  ticket: 'trellis-ticket',
  /** Index in the ticket's path of the processor receiving this CONNECT; = path.length at the server agent. */
  hop: 'trellis-hop',
  flowLabel: 'trellis-flow',
  /** The client workload's address (ip:port), for the PROXY protocol header at the server. */
  source: 'trellis-source',
  /** On a refusal: why, naming the contract, the role and the rule. */
  reason: 'trellis-reason',
  /** On a refusal: its code (src/deny-codes.ts). From a peer, parsed with parseDenyCode, never echoed. */
  denyCode: 'trellis-deny-code',
  /** On a 502/504 refusal: the node that did not answer, so the client agent skips it (a hint, never trusted further). */
  unreachable: 'trellis-unreachable',
} as const;

/** Peer certificates name nodes as trellis://domain/kind/name; the hop checks who is calling. */
export function expectedPrevious(
  path: { name: string }[],
  hop: number,
  src: string,
): { kind: 'processor' | 'workload'; name: string } {
  return hop === 0 ? { kind: 'workload', name: src } : { kind: 'processor', name: path[hop - 1]!.name };
}
