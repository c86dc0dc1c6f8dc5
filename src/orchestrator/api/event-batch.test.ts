import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FLUSH_MS, FrameBatcher } from './event-batch.js';

/** A stream that records each write it gets (what the socket would get), standing in for the SSE response. */
function recorder(): { res: ServerResponse; writes: string[] } {
  const writes: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { res: w as unknown as ServerResponse, writes };
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const batch = new FrameBatcher();

describe("a stream's node events share one write", () => {
  it('writes queued node events once, within FLUSH_MS, in order', async () => {
    const { res, writes } = recorder();
    batch.queue(res, 'event: node\ndata: 1\n\n');
    batch.queue(res, 'event: node\ndata: 2\n\n');
    expect(writes).toEqual([]);
    expect(batch.queuedBytes(res)).toBe(42);
    await wait(FLUSH_MS * 2);
    expect(writes).toEqual(['event: node\ndata: 1\n\nevent: node\ndata: 2\n\n']);
    expect(batch.queuedBytes(res)).toBe(0);
  });

  it('writes any other event at once, after what is queued, in one write', () => {
    const { res, writes } = recorder();
    batch.queue(res, 'n1;');
    batch.write(res, 'policy;');
    expect(writes).toEqual(['n1;policy;']);
    batch.write(res, 'policy2;');
    expect(writes).toEqual(['n1;policy;', 'policy2;']);
  });

  it('keeps streams apart, and drops what was queued for a closed stream', async () => {
    const a = recorder();
    const b = recorder();
    batch.queue(a.res, 'a;');
    batch.queue(b.res, 'b;');
    batch.forget(a.res);
    await wait(FLUSH_MS * 2);
    expect(a.writes).toEqual([]);
    expect(b.writes).toEqual(['b;']);
  });

  it('writes nothing queued after it is closed (the orchestrator closing)', async () => {
    const own = new FrameBatcher();
    const { res, writes } = recorder();
    own.queue(res, 'n1;');
    own.close();
    await wait(FLUSH_MS * 2);
    expect(writes).toEqual([]);
    expect(own.queuedBytes(res)).toBe(0);
  });
});
