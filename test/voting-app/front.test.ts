import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedAddress } from '../../examples/voting-app/src/fabric-address.js';
import { connectPg } from '../../examples/voting-app/src/queue/pg-connect.js';
import { upsertBallots } from '../../examples/voting-app/src/result-store.js';
import { startHttpProxy } from '../../examples/voting-app/src/services/http-proxy.js';
import { startResultDb } from '../../examples/voting-app/src/services/result-db.js';
import { startResultSvc } from '../../examples/voting-app/src/services/result-svc.js';
import { until } from '../support/wait.js';
import { ballot } from './ballot-queue.conformance.js';
import { EventStream } from './event-stream.js';
import { Browser } from './http-client.js';

/** The two web fronts when what is behind them is missing, down, or comes back. */
const HOST = '127.0.8.71';
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

describe('http-proxy', () => {
  it('names the missing env variable when a contract has no listener yet (503)', async () => {
    const proxy = await startHttpProxy({
      host: HOST,
      port: 0,
      votingFrontend: async () => undefined,
      resultFrontend: async () => undefined,
    });
    cleanup.push(() => proxy.close());
    const r = await new Browser(proxy.url).get('/voting/vote');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error).toBe(
      'voting-frontend is not available: VOTING_FRONTEND_ADDR is not set',
    );
    const ready = await new Browser(proxy.url).get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).upstreams['result-frontend']).toMatch(/RESULT_FRONTEND_ADDR is not set/);
  });

  it('answers 502 naming the contract when the upstream is down', async () => {
    const proxy = await startHttpProxy({
      host: HOST,
      port: 0,
      votingFrontend: fixedAddress(`${HOST}:1`),
      resultFrontend: fixedAddress(`${HOST}:1`),
    });
    cleanup.push(() => proxy.close());
    const r = await new Browser(proxy.url).get('/voting/result.json');
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error).toBe(`result-frontend at ${HOST}:1 failed: ECONNREFUSED`);
    expect((await new Browser(proxy.url).get('/elsewhere')).status).toBe(404);
  });

  it('routes by path prefix, passes method, body and cookies, and adds X-Forwarded-For', async () => {
    const seen: { method?: string; url?: string; body: string; headers: Record<string, unknown> }[] = [];
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, headers: req.headers });
        res.writeHead(201, { 'x-upstream': 'yes', 'set-cookie': 'a=b' }).end('from upstream');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, HOST, () => r()));
    cleanup.push(() => new Promise((r) => upstream.close(() => r())));
    const addr = `${HOST}:${(upstream.address() as { port: number }).port}`;
    const proxy = await startHttpProxy({
      host: HOST,
      port: 0,
      votingFrontend: fixedAddress(addr),
      resultFrontend: fixedAddress(addr),
    });
    cleanup.push(() => proxy.close());
    const b = new Browser(proxy.url);
    b.cookies.set('voter_id', 'f'.repeat(32));
    const r = await b.vote('Mesos');
    expect(r.status).toBe(201);
    expect(r.body).toBe('from upstream');
    expect(r.headers['x-upstream']).toBe('yes');
    await b.get('/voting/result.json?x=1');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/voting/vote', 'vote=Mesos'],
      ['GET', '/voting/result.json?x=1', ''],
    ]);
    expect(seen[0]!.headers.cookie).toBe(`voter_id=${'f'.repeat(32)}`);
    // The test's client connects from 127.0.0.1 (it binds no source address).
    expect(seen[0]!.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('looks an upstream address up at most once a second, and again at once after a failed connection', async () => {
    const upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => upstream.listen(0, HOST, () => r()));
    cleanup.push(() => new Promise((r) => upstream.close(() => r())));
    const live = `${HOST}:${(upstream.address() as { port: number }).port}`;
    // The agent's env file first names a listener that is gone, then the live one.
    let current = `${HOST}:1`;
    let lookups = 0;
    const proxy = await startHttpProxy({
      host: HOST,
      port: 0,
      votingFrontend: async () => {
        lookups++;
        return current;
      },
      resultFrontend: fixedAddress(live),
    });
    cleanup.push(() => proxy.close());
    const b = new Browser(proxy.url);
    expect((await b.get('/voting/vote')).status).toBe(502);
    current = live;
    expect((await b.get('/voting/vote')).status).toBe(200);
    expect(lookups).toBe(2);
    for (let i = 0; i < 5; i++) expect((await b.get('/voting/vote')).status).toBe(200);
    expect(lookups).toBe(2);
  });
});

describe('result-svc', () => {
  it('while result-db is unreachable: 503 for JSON, yet the event stream opens and catches up when it returns', async () => {
    const dbPort = 46471;
    const svc = await startResultSvc({
      host: HOST,
      port: 0,
      resultBackend: fixedAddress(`${HOST}:${dbPort}`),
      pollMs: 100,
    });
    cleanup.push(() => svc.close());
    const b = new Browser(svc.url);
    const r = await b.get('/voting/result.json');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error).toMatch(/result-db is unreachable/);

    const stream = await EventStream.open(`${svc.url}/voting/result/events`);
    try {
      expect(stream.status).toBe(200);
      const first = await stream.next((e) => e.event === 'tally');
      expect(JSON.parse(first.data)).toEqual({ Mesos: 0, Kubernetes: 0, total: 0 });

      const db = await startResultDb({ host: HOST, port: dbPort, kind: 'pglite' });
      cleanup.push(() => db.close());
      const c = await connectPg({ host: HOST, port: dbPort });
      await upsertBallots(c, [ballot({ vote: 'Kubernetes' }), ballot({ vote: 'Kubernetes' }), ballot()]);
      await c.end();
      const pushed = await stream.next((e) => e.event === 'tally' && JSON.parse(e.data).total === 3, 30_000);
      expect(JSON.parse(pushed.data)).toEqual({ Mesos: 1, Kubernetes: 2, total: 3 });
      expect(stream.requests).toBe(1);
      await until('JSON to answer', async () =>
        (await b.get('/voting/result.json')).status === 200 ? true : undefined,
      );
    } finally {
      stream.close();
    }
    // The browser left: its subscription is dropped (and with it the watcher's timer).
    await until('the subscriber to be dropped', async () => (svc.subscribers() === 0 ? true : undefined));
  }, 45_000);
});
