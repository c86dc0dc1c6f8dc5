import net from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionPool } from '../node/dataplane/pool.js';
import type { DenialReporter } from '../node/runtime/denials.js';
import type { AgentClientEntry } from './bundle.js';
import { MOVE_IDLE_MS } from './flow-mover.js';
import { Outbound } from './outbound.js';
import { Stats } from './stats.js';

/**
 * The client agent's listener with a stand-in for the fabric: the processor's CONNECT stream
 * is an in-memory duplex the test answers through, so it can make the server slow on purpose.
 */
class FakeStream extends Duplex {
  received = '';
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.received += chunk.toString();
    cb();
  }
}

/** An Outbound whose every CONNECT answers 200 at once; its streams are collected in `streams`. */
function fakeFabricOutbound(streams: FakeStream[]): Outbound {
  const pool = {
    get: () => ({
      request: () => {
        const s = new FakeStream();
        streams.push(s);
        setImmediate(() => s.emit('response', { ':status': 200 }));
        return s;
      },
    }),
    isEjected: () => false,
    pingNow: () => undefined,
    answeredSince: () => true,
    pingWaitingMs: () => 0,
    warm: () => undefined,
  } as unknown as SessionPool;
  return new Outbound({
    address: '127.0.0.1',
    pool,
    denials: { report: () => undefined } as unknown as DenialReporter,
    stats: new Stats(),
    log: pino({ level: 'silent' }),
    refresh: async () => undefined,
  });
}

const entry = (hops: string[]): AgentClientEntry => ({
  contract: 'voting-frontend',
  contractId: 1,
  domain: 'voting-app',
  mode: 'enforce',
  allowed: true,
  targets: [
    {
      server: 'gcp-11',
      dstNodeId: 'fd00::2',
      token: 'ticket',
      path: hops.map((name) => ({ name, endpoint: `${name}:7500` })),
    },
  ],
});

describe('Outbound moves an established flow after a path change', () => {
  let outbound: Outbound | undefined;
  afterEach(async () => outbound?.close());

  it('waits for a slow answer, then closes the idle connection so the next request takes the new path', async () => {
    const streams: FakeStream[] = [];
    outbound = fakeFabricOutbound(streams);
    await outbound.update([entry(['aws-p1', 'gcp-p1'])], new Map([['voting-frontend', 0]]));

    const client = net.connect({ host: '127.0.0.1', port: outbound.port('voting-frontend')! });
    let answer = '';
    let endedAt = 0;
    client.on('data', (d) => {
      answer += d;
    });
    client.on('end', () => {
      endedAt = Date.now();
    });
    client.write('POST /voting/vote');
    await until(() => streams[0]?.received === 'POST /voting/vote');

    // The transit edit arrives while the request waits for its answer.
    await outbound.update([entry(['aws-p1', 'aws-p2', 'gcp-p1'])], new Map());
    await sleep(4 * MOVE_IDLE_MS);
    expect(endedAt).toBe(0);

    const answeredAt = Date.now();
    streams[0]!.push('HTTP/1.1 200 OK');
    await until(() => endedAt > 0);
    expect(answer).toBe('HTTP/1.1 200 OK');
    expect(endedAt - answeredAt).toBeGreaterThanOrEqual(MOVE_IDLE_MS - 20);
    client.destroy();
  });

  it('leaves a flow alone when the new bundle keeps its path', async () => {
    outbound = fakeFabricOutbound([]);
    await outbound.update([entry(['aws-p1', 'gcp-p1'])], new Map([['voting-frontend', 0]]));
    const client = net.connect({ host: '127.0.0.1', port: outbound.port('voting-frontend')! });
    let ended = false;
    client.on('end', () => {
      ended = true;
    });
    await new Promise((r) => client.once('connect', r));
    await sleep(50);
    await outbound.update([entry(['aws-p1', 'gcp-p1'])], new Map());
    await sleep(4 * MOVE_IDLE_MS);
    expect(ended).toBe(false);
    client.destroy();
  });
});

async function until(ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}
