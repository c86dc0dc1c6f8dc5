/**
 * Certificates are backdated by this much (notBefore = issue time − skew), so a node whose clock
 * is a little behind still accepts a fresh one; the node side uses it to recover the issue time.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
