import { DENIAL_REASONS } from './denial-reason.js';

/** A refused (or, in audit mode, would-be refused) flow, as the hop that refused it reports it. */
export interface DenialRecord {
  kind: 'deny' | 'would-deny';
  domain: string;
  contract: string;
  contractId: number;
  role: 'client' | 'server';
  src: string | null;
  dst: string | null;
  reason: string;
}

/** The longest reason a denial report may carry (the orchestrator refuses longer ones). */
export const MAX_DENIAL_REASON = 1024;

/** A denial as the orchestrator stores and lists it: when, and which node reported it. */
export interface Denial extends DenialRecord {
  at: string;
  reportedBy: string;
}

/**
 * What kind of refusal a denial is, derived from its reason: the rule labels the denial
 * counters use (src/metrics/denial-reason.ts, docs/metrics.md), plus `no-server`, the part of
 * `no-path` where no server instance of the contract had registered yet (a deploy's start-up:
 * clients connect before their servers' agents are up).
 */
export const DENIAL_CODES = ['no-server', ...DENIAL_REASONS] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];

/** A node as a denial names it: the name an operator knows it by and its resource user. */
export interface DenialNode {
  nodeId: string;
  name: string;
  owner: string;
}

/**
 * A denial as the denials API lists it: the stored report with its code and names, or, with
 * `group`, one row standing for `count` reports of the same refusal (same code, contract, role
 * and nodes) between `firstAt` and `at` (the last).
 */
export interface DenialView extends Denial {
  code: DenialCode;
  /** The node the flow came from and the one it was for, where the denial knows them. */
  source: DenialNode | null;
  destination: DenialNode | null;
  count: number;
  firstAt: string;
}
