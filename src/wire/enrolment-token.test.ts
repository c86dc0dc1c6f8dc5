import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnrolmentToken, encodeEnrolmentToken } from './enrolment-token.js';

const sample = {
  url: 'https://10.0.0.5:7420',
  ca: `sha256:${'ab'.repeat(32)}`,
  id: 'tok-0123abcd',
  secret: 'A'.repeat(43),
};

describe('enrolment token codec', () => {
  it('round-trips', () => {
    const text = encodeEnrolmentToken(sample);
    expect(text.startsWith('trellis-enrol.')).toBe(true);
    expect(decodeEnrolmentToken(text)).toEqual(sample);
    expect(decodeEnrolmentToken(`  ${text}\n`)).toEqual(sample);
  });
  it('says what is wrong, never throws, on any text', () => {
    expect(decodeEnrolmentToken('trl_abc')).toMatch(/must start with "trellis-enrol\."/);
    expect(decodeEnrolmentToken('trellis-enrol.%%%')).toMatch(/damaged|unknown version/);
    const noCa = `trellis-enrol.${Buffer.from(JSON.stringify({ ...sample, v: 1, ca: 'x' })).toString('base64url')}`;
    expect(decodeEnrolmentToken(noCa)).toMatch(/fingerprint/);
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = decodeEnrolmentToken(`trellis-enrol.${s}`);
        expect(typeof r === 'string' || typeof r === 'object').toBe(true);
      }),
    );
  });
});
