import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './client.js';

/** A transport on which nothing answers: what fetch throws for a refused connection. */
const refused = () =>
  Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));

describe('ApiClient reports a network failure as unavailable (raw() threw a bare TypeError)', () => {
  it('a request nobody answers is TRELLIS_ERR_UNAVAILABLE, status 0, naming the orchestrator', async () => {
    const api = new ApiClient('http://127.0.0.1:9', 't', refused);
    const err = await api.nodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(0);
    expect((err as ApiError).body.code).toBe('TRELLIS_ERR_UNAVAILABLE');
    expect((err as ApiError).message).toContain(
      'cannot reach the orchestrator at http://127.0.0.1:9 (ECONNREFUSED)',
    );
  });

  it('so is an event stream (raw) nobody answers', async () => {
    const api = new ApiClient('http://127.0.0.1:9', 't', refused);
    const err = await api.raw('/api/v1/events').catch((e: unknown) => e);
    expect((err as ApiError).body.code).toBe('TRELLIS_ERR_UNAVAILABLE');
  });

  it('an error answer without a Trellis body gets the code of its status, not "internal"', async () => {
    const api = new ApiClient('http://127.0.0.1:9', 't', async () => new Response('{}', { status: 503 }));
    const err = await api.nodes().catch((e: unknown) => e);
    expect((err as ApiError).body.code).toBe('TRELLIS_ERR_UNAVAILABLE');
  });
});
