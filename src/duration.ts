import { TrellisError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Durations as people write them on command lines and in the environment: `90s`, `2m`, `1h30m`,
 * `7d`, `500ms`; a bare number is seconds. Returns milliseconds; `what` names the flag or
 * variable in the error, so a typo in TRELLIS_TICKET_TTL says which setting was wrong.
 */
export function parseDuration(text: string, what: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const parts = [...s.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s || ms <= 0) {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `${what} "${text}" is not a duration`, {
      hint: 'e.g. 90s, 2m, 1h, 7d (a bare number is seconds)',
    });
  }
  return ms;
}

/** `5400000` → `1h30m`: the inverse, for messages and `-o table`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [unit, secs] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= secs) {
      out += `${Math.floor(rest / secs)}${unit}`;
      rest %= secs;
    }
  }
  return out;
}
