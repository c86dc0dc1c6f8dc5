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

/** A denial as the orchestrator stores and lists it: when, and which node reported it. */
export interface Denial extends DenialRecord {
  at: string;
  reportedBy: string;
}
