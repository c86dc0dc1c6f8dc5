import { DENIAL_REASONS } from './denial-reason.js';

/**
 * Apart from denial.ts (zod) so that the console can list the codes without bundling zod.
 *
 * What kind of refusal a denial is, derived from its reason: the rule labels the denial
 * counters use (src/model/denial-reason.ts, docs/metrics.md), plus `no-server`, the part of
 * `no-path` where no server instance of the contract had registered yet (a deploy's start-up:
 * clients connect before their servers' agents are up).
 */
export const DENIAL_CODES = ['no-server', ...DENIAL_REASONS] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];
