import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api-client/client.js';
import { dropRefused } from './denials.js';

const log = pino({ level: 'silent' });

describe('dropRefused (a denial report the orchestrator refuses)', () => {
  it("drops the one entry a 403 names, so another domain's denial does not hold up the queue for ever", () => {
    const err = new ApiError(403, {
      code: 'TRELLIS_ERR_FORBIDDEN',
      message: 'node "h1" of domain "hello" may not report denials in domain "voting-app"',
      field: 'body.denials[1].domain',
    });
    expect(dropRefused(['a', 'b', 'c'], err, log)).toEqual(['a', 'c']);
  });

  it('retries the whole batch when the orchestrator is away or names no entry', () => {
    const away = new ApiError(502, { code: 'TRELLIS_ERR_UNAVAILABLE', message: 'down' });
    const owner = new ApiError(403, { code: 'TRELLIS_ERR_FORBIDDEN', message: 'only its owner' });
    expect(dropRefused(['a', 'b'], away, log)).toEqual(['a', 'b']);
    expect(dropRefused(['a', 'b'], owner, log)).toEqual(['a', 'b']);
    expect(dropRefused(['a', 'b'], new Error('ECONNREFUSED'), log)).toEqual(['a', 'b']);
  });
});
