import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService2 } from '../../examples/hello/src/service2.js';
import { ApiClient } from '../../src/api-client/client.js';
import { SseParser } from '../../src/node/runtime/sse.js';
import { trellis } from '../support/cli.js';
import { TestFabric } from '../support/fabric.js';

// Issue 11, finding 6 (must-show 2): a node that accepts but does not answer (SIGSTOP) was
// unnoticed — each request to it timed out after 3 s, 6.1 s of disruption, the node still
// `connected` 10 s later, nothing counted. Replayed here with real processes: the processor on
// the path, then one of two server instances, is stopped during a paced 300-request loop.
// Own loopback range 127.0.151.x.
const HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');
const BASE = 20000 + Math.floor(Math.random() * 20000);
const P = { 'aws-p1': '127.0.151.1', 'aws-p2': '127.0.151.2', 'gcp-p1': '127.0.151.3' };
const AWS_VM1 = '127.0.151.11';
const GCP_VM1 = '127.0.151.12';
const GCP_VM2 = '127.0.151.13';
const REQUESTS = 300;
/** Modest pace: two loaded cores must keep up with the loop itself. */
const PACE_MS = 25;
/** The request that is sent just before the node is stopped. */
const STOP_AT = 80;

/** One request on a new connection (a new flow); resolves with when it answered, or null. */
function hello(addr: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get(
      `http://${addr}/`,
      { localAddress: AWS_VM1, agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve(res.statusCode === 200 && body.startsWith('Hello from') ? Date.now() : null),
        );
        res.on('error', () => resolve(null));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

interface LoopResult {
  failed: number;
  longestGapMs: number;
  /** When the longest gap ended (ms since the epoch): for the report, where it fell. */
  gapEnd: number;
}

/**
 * A request every PACE_MS, not waiting for the last (a hung flow must not hold up the loop, as
 * it would not hold up a real client's other requests); `onStop` runs before request STOP_AT.
 * The longest gap is the longest time between two answered requests, from the first sent.
 */
async function loop(addr: string, onStop: () => void): Promise<LoopResult> {
  const pending: Promise<number | null>[] = [];
  const start = Date.now();
  for (let i = 0; i < REQUESTS; i++) {
    if (i === STOP_AT) onStop();
    pending.push(hello(addr));
    await sleep(PACE_MS);
  }
  const lastSent = Date.now();
  const answers = await Promise.all(pending);
  const times = answers.filter((t): t is number => t !== null).sort((a, b) => a - b);
  let longestGapMs = 0;
  let gapEnd = start;
  let last = start;
  for (const t of times) {
    if (t - last > longestGapMs) {
      longestGapMs = t - last;
      gapEnd = t;
    }
    last = t;
  }
  // Requests that failed at the end of the loop are a gap too, up to the last one sent.
  if (lastSent - last > longestGapMs) {
    longestGapMs = lastSent - last;
    gapEnd = lastSent;
  }
  return { failed: answers.filter((t) => t === null).length, longestGapMs, gapEnd };
}

async function get(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) =>
    http
      .get(url, { localAddress }, (res) => {
        let b = '';
        res.on('data', (d) => {
          b += d;
        });
        res.on('end', () => resolve(b));
      })
      .on('error', reject),
  );
}

/** The value of one series of a Prometheus text page (0 when absent). */
function metric(page: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = page.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Node events as the admin's event stream (what the console and `--watch` read) shows them. */
class NodeEvents {
  readonly seen: { name: string; status: string; by?: string | undefined; at: number }[] = [];
  readonly #abort = new AbortController();

  constructor(f: TestFabric) {
    void (async () => {
      const res = await f.admin.raw('/api/v1/events', {
        headers: { accept: 'text/event-stream' },
        signal: this.#abort.signal,
      });
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) {
        for (const m of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
          const d = m.data as {
            name?: string;
            status?: string;
            node?: string;
            peer?: string;
            state?: string;
          };
          if (m.event === 'node' && d.name && d.status)
            this.seen.push({ name: d.name, status: d.status, at: Date.now() });
          // A peer ejection: `name` is the peer, `status` the state, `by` who ejected it.
          if (m.event === 'peer-health' && d.peer && d.state)
            this.seen.push({ name: d.peer, status: d.state, by: d.node, at: Date.now() });
        }
      }
    })().catch(() => undefined);
  }

  stop(): void {
    this.#abort.abort();
  }
}

describe('hung nodes are detected and ejected (issue 11, finding 6)', () => {
  let f: TestFabric;
  let helloAddr: string;
  const workloads: net.Server[] = [];
  let events: NodeEvents;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
    let port = BASE;
    for (const [name, address] of Object.entries(P)) await f.processor(name, address, port++);
    // Two server instances of contract hello, both behind gcp-p1.
    for (const [vm, address, p] of [
      ['gcp-vm1', GCP_VM1, BASE + 10],
      ['gcp-vm2', GCP_VM2, BASE + 11],
    ] as const) {
      workloads.push(await startService2(address, p));
      await f.agent({
        vm,
        hostOwner: 'service2',
        domain: 'hello',
        address,
        processors: ['gcp-p1'],
        serve: [`hello=${address}:${p}`],
      });
    }
    const env = await f.envOf(
      await f.agent({
        vm: 'aws-vm1',
        hostOwner: 'service1',
        domain: 'hello',
        address: AWS_VM1,
        processors: ['aws-p1', 'aws-p2'],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
    // Both instances in the client's bundle before the loop starts.
    await f.waitFor(async () => {
      const b = JSON.parse(readFileSync(`${f.dir}/aws-vm1/bundle.json`, 'utf8')) as {
        client: { contract: string; targets: { token?: string }[] }[];
      };
      return b.client.find((c) => c.contract === 'hello')!.targets.filter((t) => t.token).length === 2;
    }, 'both server instances in the bundle');
    events = new NodeEvents(f);
  }, 120_000);

  afterAll(async () => {
    // TRELLIS_TEST_LOGS=DIR keeps every node's log there (what the failovers looked like).
    const keep = process.env.TRELLIS_TEST_LOGS;
    if (keep && f) {
      await mkdir(keep, { recursive: true });
      for (const [name, lines] of f.logs) await writeFile(join(keep, `${name}.log`), lines.join(''));
    }
    events?.stop();
    for (const w of workloads) w.close();
    await f?.stop();
  });

  /** What `trellis get events -o json` lists (as an admin would run it). */
  async function cliEvents(): Promise<
    { type: string; node?: string; peer?: string; state?: string; name?: string; status?: string }[]
  > {
    const { token } = await new ApiClient(f.orch.url).login('admin', 'fabric-admin-pw');
    const r = await trellis(['get', 'events', '-o', 'json'], {
      env: { ...f.env, TRELLIS_ORCHESTRATOR: f.orch.url, TRELLIS_TOKEN: token },
    });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  /** Stops `name` during the loop; always resumes it. Returns the loop and when it was stopped. */
  async function stoppedDuringLoop(
    name: string,
  ): Promise<LoopResult & { stoppedAt: number; unreachableAt: number }> {
    const child: ChildProcess = f.children.get(name)!;
    let stoppedAt = 0;
    let unreachableAt = 0;
    try {
      const watch = (async () => {
        while (stoppedAt === 0) await sleep(20);
        await f.waitFor(
          async () => (await f.admin.nodes()).some((n) => n.name === name && n.status === 'unreachable'),
          `${name} unreachable`,
          10_000,
        );
        unreachableAt = Date.now();
      })();
      const result = await loop(helloAddr, () => {
        child.kill('SIGSTOP');
        stoppedAt = Date.now();
      });
      // Printed before the status is awaited: a release without the fix reports its loop too.
      console.log(
        `SIGSTOP ${name}: ${result.failed}/${REQUESTS} failed, longest gap ${result.longestGapMs} ms (ending ${result.gapEnd - stoppedAt} ms after the stop)`,
      );
      await watch;
      return { ...result, stoppedAt, unreachableAt };
    } finally {
      child.kill('SIGCONT');
    }
  }

  it('SIGSTOP of the processor on the path: ≤ 1 % fail, longest gap ≤ 1 s, unreachable within 3 s, connected after SIGCONT', async () => {
    const r = await stoppedDuringLoop('aws-p1');
    console.log(
      `hung processor aws-p1: ${r.failed}/${REQUESTS} failed, longest gap ${r.longestGapMs} ms (ending ${r.gapEnd - r.stoppedAt} ms after the stop), unreachable after ${r.unreachableAt - r.stoppedAt} ms`,
    );
    expect(r.failed).toBeLessThanOrEqual(REQUESTS / 100);
    expect(r.longestGapMs).toBeLessThanOrEqual(1_000);
    expect(r.unreachableAt - r.stoppedAt).toBeLessThanOrEqual(3_000);
    // Counted where it was seen: the client agent ejected its session to aws-p1 and moved flows.
    const page = await get(`http://${AWS_VM1}:7401/metrics`, AWS_VM1);
    expect(
      metric(page, 'trellis_peer_ejections_total', { peer: 'aws-p1', reason: 'ping-timeout' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metric(page, 'trellis_failovers_total', { peer: 'aws-p1' }) +
        metric(page, 'trellis_failovers_total', { peer: 'aws-p1', reason: 'first-byte-timeout' }),
    ).toBeGreaterThanOrEqual(1);
    // Resumed (SIGCONT in the finally): connected again, and the event stream showed both.
    await f.waitFor(
      async () => (await f.admin.nodes()).some((n) => n.name === 'aws-p1' && n.status === 'connected'),
      'aws-p1 connected again',
      10_000,
    );
    await f.waitFor(
      async () =>
        events.seen.some((e) => e.name === 'aws-p1' && e.status === 'connected' && e.at > r.unreachableAt),
      'aws-p1 connected event',
    );
    expect(events.seen.some((e) => e.name === 'aws-p1' && e.status === 'unreachable')).toBe(true);
    expect(events.seen.some((e) => e.name === 'aws-p1' && e.status === 'ejected' && e.by === 'aws-vm1')).toBe(
      true,
    );
    const listed = await cliEvents();
    expect(listed.some((e) => e.type === 'peer-health' && e.peer === 'aws-p1' && e.state === 'ejected')).toBe(
      true,
    );
    expect(listed.some((e) => e.type === 'node' && e.name === 'aws-p1' && e.status === 'unreachable')).toBe(
      true,
    );
  }, 60_000);

  it('SIGSTOP of one of two server instances: ≤ 1 % fail, longest gap ≤ 1 s, unreachable within 3 s, connected after SIGCONT', async () => {
    const r = await stoppedDuringLoop('gcp-vm2');
    console.log(
      `hung server instance gcp-vm2: ${r.failed}/${REQUESTS} failed, longest gap ${r.longestGapMs} ms (ending ${r.gapEnd - r.stoppedAt} ms after the stop), unreachable after ${r.unreachableAt - r.stoppedAt} ms`,
    );
    expect(r.failed).toBeLessThanOrEqual(REQUESTS / 100);
    expect(r.longestGapMs).toBeLessThanOrEqual(1_000);
    expect(r.unreachableAt - r.stoppedAt).toBeLessThanOrEqual(3_000);
    // The processor in front of it ejected its session and turned flows back; the client agent
    // moved them to the other instance.
    const p = await get(`http://${P['gcp-p1']}:9901/metrics`, P['gcp-p1']);
    expect(metric(p, 'trellis_peer_ejections_total', { peer: 'gcp-vm2' })).toBeGreaterThanOrEqual(1);
    const a = await get(`http://${AWS_VM1}:7401/metrics`, AWS_VM1);
    expect(
      metric(a, 'trellis_failovers_total', { peer: 'gcp-vm2', reason: 'unreachable' }),
    ).toBeGreaterThanOrEqual(1);
    await f.waitFor(
      async () => (await f.admin.nodes()).some((n) => n.name === 'gcp-vm2' && n.status === 'connected'),
      'gcp-vm2 connected again',
      10_000,
    );
    expect(events.seen.some((e) => e.name === 'gcp-vm2' && e.status === 'unreachable')).toBe(true);
    await f.waitFor(
      async () =>
        events.seen.some((e) => e.name === 'gcp-vm2' && e.status === 'ejected' && e.by === 'gcp-p1'),
      'gcp-p1 ejecting gcp-vm2 on the event stream',
      5_000,
    );
    const listed = await cliEvents();
    expect(
      listed.some((e) => e.type === 'peer-health' && e.peer === 'gcp-vm2' && e.state === 'ejected'),
    ).toBe(true);
  }, 60_000);
});
