import { describe, expect, it } from 'vitest';
import { notInRole } from '../orchestrator/policy/bundle.js';
import { denialCode } from './denial-code.js';

// The rule labels themselves are tested in src/metrics/denial-reason.test.ts.
describe('denialCode', () => {
  it.each([
    ['refused: contract "voting-frontend" has no usable path (no server instance is connected)', 'no-server'],
    [
      'refused: contract "voting-frontend" has no usable path (gcp-11: contract "voting-frontend": no path from aws-p1 to gcp-p1)',
      'no-path',
    ],
    [notInRole('http-proxy', 'client', 'voting-frontend'), 'not-in-role'],
    ['denied: gcp-11 does not serve the server role of contract "voting-frontend"', 'not-served'],
    ['refused: bad signature', 'bad-signature'],
    ['something new', 'other'],
  ])('%s → %s', (reason, code) => {
    expect(denialCode(reason)).toBe(code);
  });
});
