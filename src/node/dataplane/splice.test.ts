import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { countInto, splice } from './splice.js';

/** Two connected loopback sockets: [client end, server end]. */
async function socketPair(): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  return [client, await accepted, () => server.close()];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function spliced() {
  // workload ⇄ [a | splice | b] ⇄ peer
  const [workload, a, stop1] = await socketPair();
  const [b, peer, stop2] = await socketPair();
  cleanups.push(stop1, stop2, () => {
    for (const s of [workload, a, b, peer]) s.destroy();
  });
  const counters = { packets: 0, bytes: 0, lastActive: 0 };
  let closed = 0;
  splice(a, b, countInto(counters), () => closed++);
  return { workload, peer, counters, closed: () => closed };
}

const readAll = (s: net.Socket) =>
  new Promise<Buffer>((r) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => r(Buffer.concat(parts)));
  });

describe('splice', () => {
  it('carries every byte both ways, counts them, and passes a half-close on', async () => {
    const { workload, peer, counters } = await spliced();
    const up = Buffer.alloc(3_000_000, 7);
    const gotUp = readAll(peer);
    workload.end(up);
    expect((await gotUp).equals(up)).toBe(true);
    // The peer answers after the workload's FIN: half-open still carries the answer back.
    const gotDown = readAll(workload);
    peer.end('answer');
    expect((await gotDown).toString()).toBe('answer');
    expect(counters.bytes).toBe(up.length + 'answer'.length);
    expect(counters.packets).toBeGreaterThan(1);
  });

  it('holds the sender back while the far side does not read (backpressure), then delivers all', async () => {
    const { workload, peer } = await spliced();
    peer.pause();
    const big = Buffer.alloc(32 * 1024 * 1024, 1);
    let flushed = false;
    workload.write(big, () => {
      flushed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    // Socket buffers hold a few MB at most: a splice without backpressure would take it all.
    expect(flushed).toBe(false);
    const got = readAll(peer);
    peer.resume();
    workload.end();
    expect((await got).length).toBe(big.length);
  });

  it('a reset on one side ends both and calls onClose once', async () => {
    const { workload, peer, closed } = await spliced();
    // The peer end is half-open capable: the far side's end shows as 'end' (or a reset as 'close').
    const peerClosed = new Promise((r) => {
      peer.on('end', r);
      peer.on('close', r);
    });
    peer.on('error', () => undefined);
    workload.resetAndDestroy();
    await peerClosed;
    expect(closed()).toBe(1);
  });
});
