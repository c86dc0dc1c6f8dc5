/** The constraint a refused path is blamed on. */
export type FailedConstraint = 'unknown-processor' | 'no-route' | 'transit' | 'avoid' | 'maxHops' | 'ticket';

export type PathFailure = { ok: false; reason: string; constraint: FailedConstraint };

export type PathResult = { ok: true; path: string[]; cost: number; hops: number } | PathFailure;

export function fail(constraint: FailedConstraint, reason: string): PathFailure {
  return { ok: false, reason, constraint };
}

/** `[a, b]` — how processor lists appear in reasons. */
export function listOf(names: readonly string[]): string {
  return `[${names.join(', ')}]`;
}
