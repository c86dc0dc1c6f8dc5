import type { PathParams } from '../model/index.js';

/**
 * Role edits not yet submitted (the seed's SET, then SUBMIT): held in memory per role, so
 * EDIT → SET → back on the Role page shows them, and nothing reaches the orchestrator
 * before SUBMIT. A reload drops them, as it would in any form.
 */
export interface RoleDraft {
  users?: string[];
  pathParams?: PathParams;
}

const drafts = new Map<string, RoleDraft>();
const key = (domain: string, contract: string, role: string) => `${domain}/${contract}/${role}`;

export function getDraft(domain: string, contract: string, role: string): RoleDraft | undefined {
  return drafts.get(key(domain, contract, role));
}

export function setDraft(domain: string, contract: string, role: string, patch: RoleDraft): void {
  const k = key(domain, contract, role);
  drafts.set(k, { ...drafts.get(k), ...patch });
}

export function clearDraft(domain: string, contract: string, role: string): void {
  drafts.delete(key(domain, contract, role));
}

const KNOWN = ['role', 'contract', 'transit', 'avoid', 'maxHops'];
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks path params in the browser, naming the problem (SET refuses what SUBMIT would).
 * Whether processors exist is the orchestrator's to say: it answers SUBMIT with a 422.
 */
export function parsePathParams(
  text: string,
): { ok: true; value: PathParams } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, error: 'path params must be a JSON object { … }' };
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN.includes(k)) return { ok: false, error: `unknown field "${k}" (known: ${KNOWN.join(', ')})` };
  }
  if (o.role !== undefined && o.role !== 'client' && o.role !== 'server')
    return { ok: false, error: '"role" must be "client" or "server"' };
  if (o.contract !== undefined && (typeof o.contract !== 'string' || !NAME.test(o.contract)))
    return { ok: false, error: '"contract" must be a contract name' };
  const names = (f: string, x: unknown) =>
    Array.isArray(x)
      ? x.every((n) => typeof n === 'string' && NAME.test(n))
      : typeof x === 'string' && NAME.test(x) && f === 'transit';
  if (o.transit !== undefined && !names('transit', o.transit))
    return { ok: false, error: '"transit" must be a processor name or a list of processor names' };
  if (o.avoid !== undefined && (!Array.isArray(o.avoid) || !names('avoid', o.avoid)))
    return { ok: false, error: '"avoid" must be a list of processor names' };
  if (
    o.maxHops !== undefined &&
    (typeof o.maxHops !== 'number' || !Number.isInteger(o.maxHops) || o.maxHops < 1 || o.maxHops > 64)
  )
    return { ok: false, error: '"maxHops" must be an integer from 1 to 64' };
  return { ok: true, value: o as PathParams };
}
