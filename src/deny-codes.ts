/**
 * The one catalogue of data-plane refusals: every rule by which a hop (processor, client agent,
 * server agent) refuses a flow has a code here. The code travels with the refusal
 * (`trellis-deny-code` beside the human `trellis-reason`), is recorded in the denial the node
 * reports, and names the denial counters' `reason` label; nothing sorts reason texts back
 * into rules. Kept free of zod: the console lists the codes and its bundle must not pull zod.
 *
 * `kind`: `policy` — the fabric's rules refuse this flow (a ticket, a role, a hop, a header);
 * `unavailable` — the flow is allowed but cannot be carried now (no path, a node down);
 * `unknown` — the refusal came without a code this node can read (see NO_CODE, UNKNOWN_CODE).
 */
export const DENY_CODES = {
  TRELLIS_DENY_NO_TICKET: { kind: 'policy', meaning: 'the stream carried no flow ticket' },
  TRELLIS_DENY_MALFORMED_TICKET: {
    kind: 'policy',
    meaning: 'the ticket does not decode (size, base64url, structure, a field)',
  },
  TRELLIS_DENY_BAD_SIGNATURE: {
    kind: 'policy',
    meaning: "the ticket's signature does not verify against the orchestrator's ticket key",
  },
  TRELLIS_DENY_UNKNOWN_KEY: {
    kind: 'unavailable',
    meaning:
      'the ticket is signed by a key this hop does not hold yet (a rotation it has not heard of): 412, the agent refreshes and retries once',
  },
  TRELLIS_DENY_EXPIRED: { kind: 'policy', meaning: 'the ticket is past its expiry' },
  TRELLIS_DENY_FUTURE_TICKET: {
    kind: 'policy',
    meaning: 'the ticket was issued in the future (clock skew beyond the allowance)',
  },
  TRELLIS_DENY_WRONG_HOP: {
    kind: 'policy',
    meaning: "this processor is not the hop the ticket's path and the trellis-hop header say",
  },
  TRELLIS_DENY_STALE_EPOCH: {
    kind: 'policy',
    meaning: "the ticket predates the contract's last change: 412, the agent refreshes and retries once",
  },
  TRELLIS_DENY_WRONG_PEER: {
    kind: 'policy',
    meaning: 'the flow came from a peer other than the previous hop of its path',
  },
  TRELLIS_DENY_WRONG_DESTINATION: { kind: 'policy', meaning: 'the ticket is for another workload node' },
  TRELLIS_DENY_NOT_IN_ROLE: {
    kind: 'policy',
    meaning: "the node's host owner is not in the contract's client (or server) role",
  },
  TRELLIS_DENY_NOT_SERVED: {
    kind: 'policy',
    meaning: 'the server agent does not serve the contract (its node holds no server role, or no --serve)',
  },
  TRELLIS_DENY_BAD_SOURCE: {
    kind: 'policy',
    meaning:
      "the trellis-source header is missing, malformed, repeated, or (at the first hop) not an address of the client node's certificate",
  },
  TRELLIS_DENY_BAD_FLOW_LABEL: {
    kind: 'policy',
    meaning: 'the trellis-flow header is not a flow label (0..0xfffff)',
  },
  TRELLIS_DENY_FOREIGN_SOURCE: {
    kind: 'policy',
    meaning: "a client listener was reached from another VM's address: it serves only its own VM",
  },
  TRELLIS_DENY_NOT_CONNECT: { kind: 'policy', meaning: 'the stream was not an HTTP/2 CONNECT' },
  TRELLIS_DENY_NO_PATH: {
    kind: 'unavailable',
    meaning:
      'the contract has no usable path to any server instance (no connected processor, or the path params admit none)',
  },
  TRELLIS_DENY_NO_SERVER: {
    kind: 'unavailable',
    meaning: 'no server instance of the contract is connected yet (usual for seconds after a deploy)',
  },
  TRELLIS_DENY_NEXT_HOP_UNREACHABLE: {
    kind: 'unavailable',
    meaning: 'the next hop could not be reached, failed, or did not answer its PING (502/504, named)',
  },
  TRELLIS_DENY_PATH_TIMEOUT: {
    kind: 'unavailable',
    meaning: 'the next hop answered its PING but nothing beyond it answered the flow in time (504)',
  },
  TRELLIS_DENY_SERVER_UNREACHABLE: {
    kind: 'unavailable',
    meaning: "every server instance of the contract, or the server's workload port, is unreachable",
  },
  TRELLIS_DENY_NO_CODE: {
    kind: 'unknown',
    meaning:
      'the refusal came without a code: from a node older than this catalogue (a mixed-version fabric), or stored before the upgrade; its reason text says why',
  },
  TRELLIS_DENY_UNKNOWN_CODE: {
    kind: 'unknown',
    meaning:
      'a peer sent a code this node does not know (a newer version, or garbage); the value itself is not repeated',
  },
} as const satisfies Record<string, { kind: 'policy' | 'unavailable' | 'unknown'; meaning: string }>;

export type DenyCode = keyof typeof DENY_CODES;
export type DenyKind = (typeof DENY_CODES)[DenyCode]['kind'];

/** Every code, in catalogue order (the console's filter lists them). */
export const DENY_CODE_LIST = Object.keys(DENY_CODES) as [DenyCode, ...DenyCode[]];

const PREFIX = 'TRELLIS_DENY_';

/** Longest code a peer's header or a node's report may hold before it is not even looked up. */
export const MAX_DENY_CODE = 64;

/**
 * The metric label of a code: `TRELLIS_DENY_NO_TICKET` → `no-ticket`. Derived, so the code stays
 * the single source; short and lower-case as Prometheus labels are by convention, and the same
 * values the denial counters had before codes existed (dashboards and alerts keep working).
 */
export function denyLabel(code: DenyCode): string {
  return code.slice(PREFIX.length).toLowerCase().replaceAll('_', '-');
}

const BY_LABEL = new Map(DENY_CODE_LIST.map((c) => [denyLabel(c), c]));

/** A code, or its metric label (`no-server`, as `--reason` took before codes), to the code. */
export function denyCodeOf(codeOrLabel: string): DenyCode | undefined {
  if (Object.hasOwn(DENY_CODES, codeOrLabel)) return codeOrLabel as DenyCode;
  return BY_LABEL.get(codeOrLabel);
}

/**
 * A code as a peer sent it (a next hop's `trellis-deny-code`, a node's report): a hostile value.
 * Only a catalogue code comes back as itself; absent is NO_CODE (an older peer); anything else —
 * a repeated header, a code of a newer version, garbage — is UNKNOWN_CODE, so what a peer wrote
 * never becomes a metric label or a stored code (label cardinality, log injection).
 */
export function parseDenyCode(raw: unknown): DenyCode {
  if (raw === undefined || raw === null) return 'TRELLIS_DENY_NO_CODE';
  if (typeof raw !== 'string' || raw.length > MAX_DENY_CODE || !Object.hasOwn(DENY_CODES, raw))
    return 'TRELLIS_DENY_UNKNOWN_CODE';
  return raw as DenyCode;
}
