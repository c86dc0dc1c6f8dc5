import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads units, combinations and bare seconds', () => {
    expect(parseDuration('90s', 'x')).toBe(90_000);
    expect(parseDuration('2m', 'x')).toBe(120_000);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('7d', 'x')).toBe(7 * 86_400_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('120', 'x')).toBe(120_000);
  });
  it('names the setting when the text is not a duration', () => {
    for (const bad of ['', 'abc', '1y', '10 s', '-5s', '0s', '1h foo'])
      expect(() => parseDuration(bad, 'TRELLIS_TICKET_TTL')).toThrow(
        /TRELLIS_TICKET_TTL ".*" is not a duration/,
      );
  });
  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});
