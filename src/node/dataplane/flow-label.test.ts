import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FLOW_LABEL, parseFlowLabel } from './flow-label.js';

describe('parseFlowLabel (trellis-flow from a peer)', () => {
  it('takes the labels an agent sends, and none for a missing header', () => {
    expect(parseFlowLabel('1')).toEqual({ ok: true, value: 1 });
    expect(parseFlowLabel(String(MAX_FLOW_LABEL))).toEqual({ ok: true, value: MAX_FLOW_LABEL });
    expect(parseFlowLabel('0')).toEqual({ ok: true, value: 0 });
    expect(parseFlowLabel(undefined)).toEqual({ ok: true, value: 0 });
  });

  it('refuses what is not an integer 0..2^20-1, naming the value', () => {
    for (const raw of ['1.5', '-1', '1e21', '0x10', ' 7', '', 'NaN', 'Infinity', '1048576', '9'.repeat(500)])
      expect(parseFlowLabel(raw), raw).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^trellis-flow ".*" is not a flow label \(0\.\.1048575\)$/),
      });
    expect(parseFlowLabel(['1', '2'])).toHaveProperty('ok', false);
  });

  it('answers every string with a value the flow report accepts, or a short refusal', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 2000 })), (raw) => {
        const v = parseFlowLabel(raw);
        if (v.ok) expect(Number.isInteger(v.value) && v.value >= 0 && v.value <= MAX_FLOW_LABEL).toBe(true);
        else expect(v.reason.length).toBeLessThan(100);
      }),
      { numRuns: 500 },
    );
  });
});
