import { TrellisError } from '../errors.js';
import type { Contract } from '../model/index.js';
import { describePrincipal, type Principal } from './auth/principal.js';
import type { Orchestrator } from './context.js';
import { type ChangeScope, contractChangeScope, ScopeBuilder } from './policy/change-scope.js';
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
   * `contract`: the contract as it was and is now (null: created / deleted), so that only the
   * agents whose bundle it changes refetch (policy/change-scope.ts); without it every bundle
   * counts as changed.
   */
  policyChanged(contractId?: number, contract?: { before: Contract | null; after: Contract | null }): void;
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
  let changed: { epoch: number; scope: ChangeScope } | null = null;
  try {
    const result = await o.db.transaction(async (sql) => {
      let policy = false;
      const contracts = new Set<number>();
      // Per attempt: a retried transaction starts from nothing.
      const scope = new ScopeBuilder();
      const out = await fn({
        sql,
        audit: (e) => insertAudit(sql, { ...e, actor: describePrincipal(principal) }),
        policyChanged: (contractId, contract) => {
          policy = true;
          if (contractId !== undefined) contracts.add(contractId);
          if (contract) scope.add(contractChangeScope(contract.before, contract.after));
          else scope.everything();
        },
      });
      if (policy) {
        const epoch = await bumpPolicyEpoch(sql);
        for (const id of contracts) await markContractChanged(sql, id, epoch);
        changed = { epoch, scope: scope.build() };
      }
      return out;
    });
    // Only after the commit: subscribers (agents, processors, console) then read the new state.
    if (changed !== null) {
      const { epoch, scope } = changed;
      o.events.publish({ type: 'policy', epoch, at: new Date().toISOString(), scope });
    }
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
