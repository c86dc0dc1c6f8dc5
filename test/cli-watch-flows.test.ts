import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, TRELLIS_BIN } from './support/cli.js';
import { until } from './support/wait.js';

const entry = (flowLabel: number, packets: number, idleAge: number) => ({
  srcNodeId: 'fd32:10d7:b78f:9fc6::11',
  dstNodeId: 'fd32:10d7:b78f:9fc6::21',
  contractId: 0x1234,
  flowLabel,
  inPort: 'agent',
  outPort: 'gcp-p1',
  packets,
  bytes: packets * 100,
  idleAge,
  idleTimeout: 60,
  srcNode: 'aws-11',
  dstNode: 'gcp-11',
  contract: 'voting-app/voting-frontend',
});

/**
 * `trellis get flows aws-p1 --watch` against an orchestrator's two answers, on loopback: the
 * event stream (held open, asked for `flows` events) and a flow table that changes between
 * reads. The watch reads the table again on each `flows` event of its processor, and only then:
 * nothing is polled. (test/cli-watch-events.test.ts runs the same against a real orchestrator.)
 */
/** `trellis get flows aws-p1 --watch` against `url`, its output gathered as it comes. */
async function watchFlows(url: string) {
  const env: NodeJS.ProcessEnv = { ...(await cliEnv()), TRELLIS_ORCHESTRATOR: url, TRELLIS_TOKEN: 't' };
  const child = spawn(process.execPath, [TRELLIS_BIN, 'get', 'flows', 'aws-p1', '--watch'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = { child, stdout: '', stderr: '', ended: new Promise<number | null>((r) => child.on('close', r)) };
  child.stdout.on('data', (d) => {
    w.stdout += d;
  });
  child.stderr.on('data', (d) => {
    w.stderr += d;
  });
  return w;
}

describe('trellis get flows PROCESSOR --watch', () => {
  let server: Server;
  let url: string;
  let reads = 0;
  const streams: ServerResponse[] = [];
  const asked: string[] = [];
  let revision = 0;
  /** What the orchestrator sends when a processor's flow table changed. */
  const flowsEvent = (processor: string) => {
    const e = { type: 'flows', processor, revision: ++revision, reportedAt: '', table50Total: 1, at: '' };
    for (const s of streams) s.write(`event: flows\ndata: ${JSON.stringify(e)}\n\n`);
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/events')) {
        asked.push(req.url);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: hello\ndata: {"type":"hello","epoch":1}\n\n');
        streams.push(res);
        return;
      }
      reads++;
      // Read 1 (the first table) and 2 (the stream's hello): one flow. Then (the first event) its
      // counters move and a second flow starts; from then on only its idle age ticks, no change.
      const table50 = reads <= 2 ? [entry(1, 10, 0)] : [entry(1, 25, reads), entry(2, 1, reads)];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          processor: 'aws-p1',
          reportedAt: new Date().toISOString(),
          table30: { packets: 0, bytes: 0, flows: table50.length },
          table50Total: table50.length,
          table50,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    for (const s of streams) s.destroy();
    // The last test closes it itself.
    if (server.listening) return new Promise((r) => server.close(r));
  });

  it('prints the table, then one line per new or changed flow on each flows event, and ends on SIGINT with exit 0', async () => {
    const w = await watchFlows(url);
    const { child, ended } = w;
    try {
      const lines = () => w.stdout.split('\n').filter(Boolean);
      // The table, then its stream's hello re-reads it once: the stream is open.
      await until('its stream', async () => (reads >= 2 && streams.length > 0 ? true : undefined));
      expect(asked).toEqual(['/api/v1/events?kinds=flows']);
      expect(lines()).toHaveLength(2);
      // Another processor's table changing is no read of this one.
      flowsEvent('gcp-p1');
      flowsEvent('aws-p1');
      await until('the two changes', async () => (lines().length >= 4 ? true : undefined), 15_000);
      expect(reads).toBe(3);
      // Two more events whose reads show only idle ages moving: nothing more is printed.
      flowsEvent('aws-p1');
      flowsEvent('aws-p1');
      await until('two more reads', async () => (reads >= 5 ? true : undefined), 10_000);
      const [header, first, changed, added, ...more] = lines();
      expect(header).toMatch(/^SOURCE\s+DESTINATION\s+CONTRACT\s+LABEL\s+PACKETS\s+BYTES\s+IDLE$/);
      expect(first).toMatch(/aws-11.*gcp-11.*0x00001\s+10\s+1000\s+0s$/);
      expect(changed).toMatch(/0x00001\s+25\s+2500\s+\d+s$/);
      expect(added).toMatch(/0x00002\s+1\s+100\s+\d+s$/);
      expect(more).toEqual([]);
      // No event, no read: the table is not polled.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(reads).toBe(5);
      child.kill('SIGINT');
      expect(await ended).toBe(0);
      expect(w.stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
      for (const s of streams.splice(0)) s.destroy();
    }
  });

  it('ends with exit 5 once the orchestrator is gone for good (its stream does not come back)', async () => {
    const readsAtStart = reads;
    const w = await watchFlows(url);
    const { child, ended } = w;
    try {
      await until('the table', async () => (w.stdout.startsWith('SOURCE') ? true : undefined));
      // Its stream is open once the table was read a second time (the stream's hello re-reads).
      await until('its stream', async () => (reads >= readsAtStart + 2 ? true : undefined));
      // The orchestrator goes away: no new connection, the open stream cut.
      await new Promise((r) => {
        server.close(r);
        for (const s of streams) s.destroy();
        server.closeAllConnections();
      });
      const code = await Promise.race([
        ended,
        new Promise((r) => setTimeout(() => r('still running'), 20_000)),
      ]);
      expect(code).toBe(5);
      expect(w.stderr).toContain(`error: cannot reach the orchestrator at ${url}`);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('trellis get flows PROCESSOR --watch, its stream dropped', () => {
  it('reopens the stream and reads the table again once: a change made while it was down is printed', async () => {
    let packets = 10;
    let reads = 0;
    const streams: ServerResponse[] = [];
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: hello\ndata: {"type":"hello","epoch":1}\n\n');
        streams.push(res);
        return;
      }
      reads++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          processor: 'aws-p1',
          reportedAt: new Date().toISOString(),
          table30: { packets, bytes: packets * 100, flows: 1 },
          table50Total: 1,
          table50: [entry(1, packets, 0)],
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const w = await watchFlows(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    try {
      const lines = () => w.stdout.split('\n').filter(Boolean);
      await until('its stream', async () => (reads >= 2 && streams.length === 1 ? true : undefined));
      // The table changes while no stream is open (its flows event is lost with the stream).
      packets = 25;
      streams[0]!.destroy();
      await until('the second stream', async () => (streams.length === 2 ? true : undefined), 15_000);
      const changed = await until('the change', async () => lines()[2]);
      expect(changed).toMatch(/0x00001\s+25\s+2500\s+0s$/);
      // One read for the reconnect's hello, none after it.
      expect(reads).toBe(3);
      expect(lines()).toHaveLength(3);
      w.child.kill('SIGINT');
      expect(await w.ended).toBe(0);
      expect(w.stderr).toBe('');
    } finally {
      w.child.kill('SIGKILL');
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
