import { describe, expect, it } from 'vitest';
import { BEAT_STREAM_MS } from './beat.js';
import { BeatStream, endOf } from './beat-stream.js';

/** Reads what a beat stream's body carried, until it ends. */
async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const c of body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
  return bytes;
}

describe('BeatStream (a node beating on one request)', () => {
  it('writes a byte per beat and ends itself once BEAT_STREAM_MS old, answered 200: ended', async () => {
    let read: Promise<number> | undefined;
    const s = new BeatStream(async (body) => {
      read = drain(body);
      await read;
      return new Response('{"beats":3}', { status: 200 });
    }, 0);
    expect(s.beat(1)).toBe(true);
    expect(s.beat(2)).toBe(true);
    expect(s.beat(BEAT_STREAM_MS)).toBe(true);
    expect(s.beat(BEAT_STREAM_MS + 1)).toBe(false);
    expect(await read).toBe(3);
    expect(await s.done).toBe('ended');
  });

  it('stops taking beats once refused, and says why', async () => {
    const s = new BeatStream(async () => new Response('', { status: 401 }), 0);
    expect(await s.done).toBe('unauthenticated');
    expect(s.beat(1)).toBe(false);
    const f = new BeatStream(async () => {
      throw new Error('ECONNREFUSED');
    }, 0);
    expect(await f.done).toBe('failed');
    expect(f.beat(1)).toBe(false);
  });

  it('tells an orchestrator without beat streams (an older release) from a failure', () => {
    expect(endOf(404)).toBe('unsupported');
    expect(endOf(415)).toBe('unsupported');
    expect(endOf(503)).toBe('failed');
    expect(endOf(204)).toBe('ended');
  });
});
