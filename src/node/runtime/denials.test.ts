import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api-client/client.js';
import { MAX_DENIAL_REASON } from '../../model/denial.js';
import type { ControlSession } from './control.js';
import { DenialReporter, dropRefused } from './denials.js';

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

describe('DenialReporter.report', () => {
  it("cuts a reason longer than the orchestrator takes (a peer's header or trellis-reason quoted in it), so the batch is not refused for ever", async () => {
    const sent: { denials: { reason: string }[] }[] = [];
    const control = {
      call: (
        fn: (api: { request: (m: string, p: string, body: unknown) => Promise<void> }) => Promise<void>,
      ) => fn({ request: async (_m, _p, body) => void sent.push(body as (typeof sent)[number]) }),
    } as unknown as ControlSession;
    const r = new DenialReporter(control, 'aws-p1', log);
    const base = {
      kind: 'deny',
      domain: 'hello',
      contract: 'hello',
      contractId: 1,
      role: 'client',
      src: null,
      dst: null,
      code: 'TRELLIS_DENY_NO_PATH',
    } as const;
    r.report({ ...base, reason: `refused: ${'9'.repeat(5000)}` });
    r.report({ ...base, reason: 'refused: short' });
    await r.flush();
    r.stop();
    const [long, short] = sent[0]!.denials;
    expect(long!.reason.length).toBe(MAX_DENIAL_REASON);
    expect(long!.reason).toMatch(/^refused: 9+…$/);
    expect(short!.reason).toBe('refused: short');
  });
});
