import net from 'node:net';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { H } from '../node/dataplane/headers.js';
import type { SessionPool } from '../node/dataplane/pool.js';
import type { DenialReporter } from '../node/runtime/denials.js';
import type { AgentClientEntry } from './bundle.js';
import { MOVE_IDLE_MS } from './flow-mover.js';
import { Outbound } from './outbound.js';
import { Stats } from './stats.js';

/** A CONNECT stream that echoes what it is sent once answered. */
class EchoStream extends Duplex {
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.push(chunk);
    cb();
  }
}

/** A fabric where `dead` endpoints fail every stream before answering; requests are logged. */
function fabric(dead: Set<string>, log: { endpoint: string; ticket: string }[]): SessionPool {
  return {
    get: (endpoint: string) => ({
      request: (headers: Record<string, string>) => {
        log.push({ endpoint, ticket: headers[H.ticket]! });
        const s = new EchoStream();
        setImmediate(() =>
          dead.has(endpoint)
            ? s.emit('error', new Error('connect ECONNREFUSED'))
            : s.emit('response', { ':status': 200 }),
        );
        return s;
      },
    }),
    isEjected: () => false,
    pingNow: () => undefined,
    answeredSince: () => true,
    pingWaitingMs: () => 0,
    warm: () => undefined,
  } as unknown as SessionPool;
}

const hop = (name: string) => ({ name, endpoint: `${name}:7500` });
const entry: AgentClientEntry = {
  contract: 'hello',
  contractId: 1,
  domain: 'hello',
  mode: 'enforce',
  allowed: true,
  targets: [
    {
      server: 'gcp-vm1',
      dstNodeId: 'fd00::2',
      token: 'via-aws-p1',
      path: [hop('aws-p1'), hop('gcp-p1')],
      fallbacks: [{ token: 'via-aws-p2', path: [hop('aws-p2'), hop('gcp-p1')] }],
    },
  ],
};

function roundTrip(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => c.write('ping'));
    c.once('data', (d) => {
      resolve(String(d));
      c.destroy();
    });
    c.on('close', () => resolve(''));
    c.on('error', () => resolve(''));
  });
}

describe('Outbound fails over to the next processor on cached tickets', () => {
  let outbound: Outbound | undefined;
  afterEach(async () => outbound?.close());

  it('takes the fallback ticket at once when the first hop is unreachable, then goes there first', async () => {
    const requests: { endpoint: string; ticket: string }[] = [];
    const denied: string[] = [];
    outbound = new Outbound({
      address: '127.0.0.1',
      pool: fabric(new Set(['aws-p1:7500']), requests),
      denials: { report: (d: { reason: string }) => denied.push(d.reason) } as unknown as DenialReporter,
      stats: new Stats(),
      log: pino({ level: 'silent' }),
      refresh: async () => undefined,
    });
    await outbound.update([entry], new Map());
    const port = outbound.port('hello')!;

    expect(await roundTrip(port)).toBe('ping');
    expect(requests).toEqual([
      { endpoint: 'aws-p1:7500', ticket: 'via-aws-p1' },
      { endpoint: 'aws-p2:7500', ticket: 'via-aws-p2' },
    ]);
    // The dead first hop is tried last for a while: the next flow goes straight to aws-p2.
    expect(await roundTrip(port)).toBe('ping');
    expect(requests.slice(2)).toEqual([{ endpoint: 'aws-p2:7500', ticket: 'via-aws-p2' }]);
    expect(denied).toEqual([]);
  });

  it('refuses, naming the contract, when every ticket’s first hop is down', async () => {
    const requests: { endpoint: string; ticket: string }[] = [];
    const denied: string[] = [];
    outbound = new Outbound({
      address: '127.0.0.1',
      pool: fabric(new Set(['aws-p1:7500', 'aws-p2:7500']), requests),
      denials: {
        report: (d: { code: string; reason: string }) => denied.push(`${d.code}: ${d.reason}`),
      } as unknown as DenialReporter,
      stats: new Stats(),
      log: pino({ level: 'silent' }),
      refresh: async () => undefined,
    });
    await outbound.update([entry], new Map());
    expect(await roundTrip(outbound.port('hello')!)).toBe('');
    expect(requests.map((r) => r.endpoint)).toEqual(['aws-p1:7500', 'aws-p2:7500']);
    expect(denied).toEqual([
      'TRELLIS_DENY_SERVER_UNREACHABLE: refused: every server of contract "hello" is unreachable',
    ]);
  });

  it('leaves a flow on its fallback path alone when a bundle keeps that ticket (it is not "moved")', async () => {
    const requests: { endpoint: string; ticket: string }[] = [];
    outbound = new Outbound({
      address: '127.0.0.1',
      pool: fabric(new Set(['aws-p1:7500']), requests),
      denials: { report: () => undefined } as unknown as DenialReporter,
      stats: new Stats(),
      log: pino({ level: 'silent' }),
      refresh: async () => undefined,
    });
    await outbound.update([entry], new Map());
    const c = net.connect({ host: '127.0.0.1', port: outbound.port('hello')! });
    let closed = false;
    c.on('close', () => {
      closed = true;
    });
    c.on('error', () => undefined);
    c.write('ping');
    await new Promise((r) => c.once('data', r));
    await outbound.update([structuredClone(entry)], new Map());
    // Idle for longer than a moved flow would be kept: it is still open, and still echoes.
    await sleep(MOVE_IDLE_MS * 2);
    expect(closed).toBe(false);
    c.write('again');
    expect(String(await new Promise((r) => c.once('data', r)))).toBe('again');
    c.destroy();
  });
});
