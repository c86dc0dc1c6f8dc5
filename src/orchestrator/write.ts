import { TrellisError } from '../errors.js';
import { describePrincipal, type Principal } from './auth/principal.js';
import type { Orchestrator } from './context.js';
import { isForeignKeyViolation, isUniqueViolation, type Sql } from './store/db.js';
import { type AuditRecord, insertAudit } from './store/repos/audit.js';
import { markContractChanged } from './store/repos/contracts.js';
import { bumpPolicyEpoch } from './store/repos/meta.js';

export interface WriteTx {
  sql: Sql;
  /** Records who changed what in the same transaction as the change itself. */
  audit(e: Omit<AuditRecord, 'actor'>): Promise<void>;
  /**
   * Marks the write as a policy change: the epoch is bumped once at the end of the
   * transaction, and each contract named here records that epoch as its last change.
   */
  policyChanged(contractId?: number): void;
}

/**
 * Runs a write in one transaction with its audit records, so a change and its audit trail
 * land together or not at all. Constraint violations that slip past the handlers' own checks
 * (a race between two admins) still come back as 409s, never as 500s.
 */
export async function write<T>(
  o: Orchestrator,
  principal: Principal,
  fn: (w: WriteTx) => Promise<T>,
): Promise<T> {
  let changed: number | null = null;
  try {
    const result = await o.db.transaction(async (sql) => {
      let policy = false;
      const contracts = new Set<number>();
      const out = await fn({
        sql,
        audit: (e) => insertAudit(sql, { ...e, actor: describePrincipal(principal) }),
        policyChanged: (contractId) => {
          policy = true;
          if (contractId !== undefined) contracts.add(contractId);
        },
      });
      if (policy) {
        const epoch = await bumpPolicyEpoch(sql);
        for (const id of contracts) await markContractChanged(sql, id, epoch);
        changed = epoch;
      }
      return out;
    });
    // Only after the commit: subscribers (agents, processors, console) then read the new state.
    if (changed !== null) o.events.publish({ type: 'policy', epoch: changed, at: new Date().toISOString() });
    return result;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', 'that name is already taken');
    if (isForeignKeyViolation(err)) {
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        'the change refers to, or is referred to by, something else',
      );
    }
    throw err;
  }
}
