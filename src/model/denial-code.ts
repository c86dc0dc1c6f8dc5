import type { DenialCode } from './denial.js';
import { denialReason } from './denial-reason.js';

/** A client agent's reason when the contract has no server instance registered yet. */
const NO_SERVER = /\bno server instance is connected\b/;

/** The code of a denial's reason: the metrics' rule label, `no-server` refined out of `no-path`. */
export function denialCode(reason: string): DenialCode {
  const rule = denialReason(reason);
  return rule === 'no-path' && NO_SERVER.test(reason) ? 'no-server' : rule;
}
