import net from 'node:net';
import { Duplex } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DenialRecord } from '../model/denial.js';
import { H } from '../node/dataplane/headers.js';
import type { SessionPool } from '../node/dataplane/pool.js';
import type { DenialReporter } from '../node/runtime/denials.js';
import type { AgentClientEntry } from './bundle.js';
import { AgentMetrics } from './metrics.js';
import { Outbound } from './outbound.js';
import { Stats } from './stats.js';

/** A first hop that answers every CONNECT with `answer` (a refusal, here). */
function firstHop(answer: Record<string, string | number>): SessionPool {
  return {
    get: () => ({
      request: () => {
        const s = new (class extends Duplex {
          override _read(): void {}
          override _write(_c: Buffer, _e: BufferEncoding, cb: () => void): void {
            cb();
          }
        })();
        setImmediate(() => s.emit('response', answer));
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
const base: AgentClientEntry = {
  contract: 'hello',
  contractId: 1,
  domain: 'hello',
  mode: 'enforce',
  allowed: true,
  targets: [{ server: 'gcp-vm1', dstNodeId: 'fd00::2', token: 't', path: [hop('aws-p1'), hop('gcp-p1')] }],
};

function closed(port: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.on('close', () => resolve());
    c.on('error', () => undefined);
  });
}

describe('the client agent records the code of each refusal', () => {
  let outbound: Outbound | undefined;
  afterEach(async () => outbound?.close());

  async function refusal(e: AgentClientEntry, answer: Record<string, string | number> = { ':status': 200 }) {
    const reports: DenialRecord[] = [];
    const stats = new Stats();
    const metrics = new AgentMetrics(stats, { processMetrics: false });
    outbound = new Outbound({
      address: '127.0.0.1',
      pool: firstHop(answer),
      denials: {
        report: (d: DenialRecord) => {
          reports.push(d);
          metrics.denied(d);
        },
      } as unknown as DenialReporter,
      stats,
      log: pino({ level: 'silent' }),
      refresh: async () => undefined,
    });
    // A contract it may not use still gets its listener once it had one: open it allowed first.
    await outbound.update([{ ...base, contract: e.contract }], new Map());
    await outbound.update([e], new Map());
    await closed(outbound.port(e.contract)!);
    const text = await metrics.registry.metrics();
    return { reports, text };
  }

  it('NOT_IN_ROLE for a contract its host owner is not a client of', async () => {
    const { reports, text } = await refusal({
      ...base,
      allowed: false,
      reason: 'denied: host owner "x" is not in the client role of contract "hello"',
    });
    expect(reports.map((d) => d.code)).toEqual(['TRELLIS_DENY_NOT_IN_ROLE']);
    expect(text).toMatch(/trellis_agent_denials_total\{[^}]*reason="not-in-role"[^}]*\} 1/);
  });

  it('NO_SERVER when no server instance has registered, NO_PATH when none can be reached', async () => {
    expect((await refusal({ ...base, targets: [] })).reports.map((d) => d.code)).toEqual([
      'TRELLIS_DENY_NO_SERVER',
    ]);
    await outbound?.close();
    const noPath = await refusal({
      ...base,
      targets: [{ server: 'gcp-vm1', dstNodeId: 'fd00::2', error: 'contract "hello": no path' }],
    });
    expect(noPath.reports.map((d) => [d.code, d.reason])).toEqual([
      [
        'TRELLIS_DENY_NO_PATH',
        'refused: contract "hello" has no usable path (gcp-vm1: contract "hello": no path)',
      ],
    ]);
  });

  it("takes a first hop's catalogue code as it is", async () => {
    const { reports } = await refusal(base, {
      ':status': 403,
      [H.denyCode]: 'TRELLIS_DENY_WRONG_HOP',
      [H.reason]: 'refused: aws-p1 is not hop 0',
    });
    expect(reports.map((d) => [d.code, d.reason])).toEqual([
      ['TRELLIS_DENY_WRONG_HOP', 'refused: aws-p1 is not hop 0'],
    ]);
  });

  it("records a forged code as UNKNOWN_CODE and an absent one as NO_CODE, never the peer's value", async () => {
    const forged = await refusal(base, {
      ':status': 403,
      [H.denyCode]: 'TRELLIS_DENY_PWNED"} evil',
      [H.reason]: 'refused: forged',
    });
    expect(forged.reports.map((d) => d.code)).toEqual(['TRELLIS_DENY_UNKNOWN_CODE']);
    expect(forged.text).toMatch(/reason="unknown-code"/);
    expect(forged.text).not.toMatch(/PWNED|evil/);
    await outbound?.close();
    const old = await refusal(base, { ':status': 403, [H.reason]: 'refused: by an older processor' });
    expect(old.reports.map((d) => d.code)).toEqual(['TRELLIS_DENY_NO_CODE']);
    expect(old.text).toMatch(/reason="no-code"/);
  });
});
