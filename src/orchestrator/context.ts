import type { Logger } from 'pino';
import type { FlowTableReport } from '../model/flow-table.js';
import type { RegisteredRoute } from './api/registered-route.js';
import type { NodeChallenges } from './auth/challenges.js';
import type { Lockout } from './auth/lockout.js';
import type { LoginGate } from './auth/login-gate.js';
import type { OpenStreams } from './auth/open-streams.js';
import type { VerifiedCache } from './auth/verified-cache.js';
import type { CryptoThread } from './crypto/thread.js';
import type { EventHub } from './events.js';
import type { FabricCa } from './pki/ca.js';
import type { Db } from './store/db.js';
import type { TicketKeyring } from './tickets/keyring.js';
import type { SignedTicketCache } from './tickets/signed-cache.js';

/** Everything a request handler may use; built once per orchestrator. */
export interface Orchestrator {
  db: Db;
  log: Logger;
  lockout: Lockout;
  /** Serialises password checks per (account, address) so the lockout counts every guess. */
  loginGate: LoginGate;
  /** Event streams by the token that opened them, so logout and revocation can cut them. */
  openStreams: OpenStreams;
  verified: VerifiedCache;
  challenges: NodeChallenges;
  /** The URL clients use (what enrolment tokens carry); set once listening. Absent: from the request. */
  publicUrl?: string;
  /** The fabric's /64 ULA prefix for node IDs, e.g. fd32:10d7:b78f:9fc6. */
  fabricPrefix: string;
  tokenTtlMs: number;
  /** A node silent this long is marked disconnected. */
  heartbeatTimeoutMs: number;
  routes: RegisteredRoute[];
  events: EventHub;
  ca: FabricCa;
  /** The keys that sign and verify flow tickets; rotated by POST /api/v1/ca/rotate-ticket-key. */
  ticketKeys: TicketKeyring;
  /** How long a flow ticket is valid; agents refresh well before. */
  ticketTtlSec: number;
  /** How long a node certificate is valid; nodes renew at 2/3 of it (--node-cert-ttl). */
  nodeCertTtlMs: number;
  /** Signed tickets reused across bundle fetches while their content and contract stay the same. */
  signedTickets: SignedTicketCache;
  /** Signs the tickets the cache cannot reuse and issues node certificates, in a worker thread when it can. */
  crypto: CryptoThread;
  flowTables: Map<string, FlowTableReport>;
  /**
   * Nodes holding an event stream (a node holding one is alive while it beats): how many it
   * holds, and the owner checked against the store when the first opened — what its beat
   * stream is checked against, with no store read (api/beats.ts).
   */
  liveStreams: Map<string, LiveStream>;
  /** Set while shutting down: streams then close because we do, not because nodes left. */
  closing: boolean;
  /** Bumps the policy epoch outside a write (a node came or went) and tells subscribers. */
  bumpEpoch(): Promise<number>;
}

export interface LiveStream {
  count: number;
  owner: string;
  domain: string;
}

export type { FlowTableReport };
