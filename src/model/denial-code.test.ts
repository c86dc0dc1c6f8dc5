import { describe, expect, it } from 'vitest';
import { foreignSourceReason } from '../agent/own-vm.js';
import { notInRole } from '../orchestrator/policy/bundle.js';
import { denialCode } from './denial-code.js';

describe('denialCode', () => {
  it.each([
    ['refused: contract "voting-frontend" has no usable path (no server instance is connected)', 'no-server'],
    [
      'refused: contract "voting-frontend" has no usable path (gcp-11: contract "voting-frontend": no path from aws-p1 to gcp-p1)',
      'no-path',
    ],
    ['refused: every server of contract "voting-frontend" is unreachable', 'unreachable'],
    [notInRole('http-proxy', 'client', 'voting-frontend'), 'no-permission'],
    ['denied: gcp-11 does not serve the server role of contract "voting-frontend"', 'no-permission'],
    ['denied: no permission for contract "voting-frontend"', 'no-permission'],
    ['refused: bad signature', 'bad-ticket'],
    ['refused: malformed ticket: not base64url', 'bad-ticket'],
    ['refused: no flow ticket', 'bad-ticket'],
    ['refused: ticket expired at 2026-01-01T01:00:00Z', 'expired'],
    [
      "refused: ticket for voting-app/voting-frontend predates the contract's last change (epoch 3 < 5)",
      'stale-epoch',
    ],
    ["refused: gcp-p1 is not hop 2 of the ticket's path [aws-p1, gcp-p1] for x", 'wrong-hop'],
    [foreignSourceReason('voting-frontend', 'aws-11', '127.0.1.12:5000'), 'source'],
    ['refused: gcp-11 has no --serve voting-frontend=HOST:PORT', 'no-target'],
    ['something new', 'other'],
  ])('%s → %s', (reason, code) => {
    expect(denialCode(reason)).toBe(code);
  });
});
