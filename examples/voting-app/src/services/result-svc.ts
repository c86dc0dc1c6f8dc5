import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { type AddressSource, fabricAddress } from '../fabric-address.js';
import { handleHealth } from '../health.js';
import { closeServer, listen, pathOf, sendHtml, sendJson } from '../http-kit.js';
import { silentLogger } from '../log.js';
import { resultPage } from '../result-page.js';
import { readTally } from '../result-store.js';
import { bindAddress, envInt, type RunningService, runMain } from '../service-main.js';
import { SseHub } from '../sse.js';
import type { Tally } from '../tally.js';
import { TallyWatcher } from '../tally-watcher.js';
import { pgUpstream, pingCheck, using } from '../upstreams.js';

/**
 * result-svc: the result page, read from result-db over contract result-backend.
 *
 *   GET /voting/result          the page (counts, percentages; live)
 *   GET /voting/result.json     {"Mesos": n, "Kubernetes": m, "total": n+m}
 *   GET /voting/result/events   Server-Sent Events: `tally` snapshot on connect, then changes
 *
 *   TRELLIS_VM_ADDRESS, PORT (default 8081)
 *   RESULT_BACKEND_ADDR   result-db through the agent's listener (or TRELLIS_ENV_FILE)
 *   RESULT_POLL_MS        how often it looks for changes while someone watches (default 250)
 *   INSTANCE_NAME         shown on the page
 */
export interface ResultSvcOptions {
  host: string;
  port: number;
  resultBackend: AddressSource;
  pollMs?: number;
  instance?: string;
  log?: Logger;
}

export interface RunningResultSvc extends RunningService {
  url: string;
  subscribers(): number;
}

const STORE_WAIT_MS = 3_000;

export async function startResultSvc(o: ResultSvcOptions): Promise<RunningResultSvc> {
  const log = o.log ?? silentLogger();
  const db = pgUpstream({ contract: 'result-backend', address: o.resultBackend, log });
  const read = () => using(db, STORE_WAIT_MS, (c) => readTally(c));
  const hub: SseHub = new SseHub((n) => (n > 0 ? watcher.start() : watcher.stop()));
  const watcher = new TallyWatcher({
    read,
    intervalMs: o.pollMs ?? 250,
    log,
    onChange: (tally, version) => hub.publish({ event: 'tally', data: tally, id: version }),
  });
  const checks = [pingCheck(db, (c) => c.query('SELECT 1 FROM votes LIMIT 1'))];
  let stopping = false;
  let instance = o.instance ?? '';

  async function tallyOr503(res: ServerResponse): Promise<Tally | undefined> {
    try {
      const t = await read();
      if (watcher.running) watcher.observe(t);
      return t;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'result-db unreachable');
      sendJson(res, 503, { error: 'result-db is unreachable; try again shortly' }, { 'retry-after': '2' });
      return undefined;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `${req.method} not allowed: the results are read-only` });
    }
    if (path === '/voting/result.json') {
      const t = await tallyOr503(res);
      if (t) sendJson(res, 200, t);
      return;
    }
    if (path === '/voting/result' || path === '/voting/result/') {
      const t = await tallyOr503(res);
      if (t) sendHtml(res, 200, resultPage(t, { instance }));
      return;
    }
    if (path === '/voting/result/events') {
      let snapshot: Tally;
      try {
        snapshot = await read();
        // The first watcher learns the baseline silently: this subscriber has it already.
        if (hub.size === 0) watcher.observe(snapshot);
      } catch {
        // Keep the stream: EventSource gives up for good on an error status. The last known
        // tally stands in, and the watcher pushes the real one once result-db answers.
        snapshot = watcher.last.tally;
      }
      hub.subscribe(req, res, { event: 'tally', data: snapshot, id: watcher.last.version });
      return;
    }
    sendJson(res, 404, {
      error: `no such page: ${path}`,
      hint: 'GET /voting/result, /voting/result.json or /voting/result/events',
    });
  }

  const server = createServer((req, res) => {
    if (handleHealth(req, res, 'result-svc', checks, () => stopping)) return;
    route(req, res).catch((err: Error) => {
      log.error({ err: err.message }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  });
  const port = await listen(server, o.host, o.port);
  instance ||= `${hostname()}/${o.host}:${port}`;
  log.info({ address: `${o.host}:${port}` }, 'result-svc listening');
  db.get().catch(() => {});
  return {
    url: `http://${o.host}:${port}`,
    subscribers: () => hub.size,
    async close() {
      stopping = true;
      watcher.stop();
      hub.closeAll();
      await closeServer(server);
      await db.close();
    },
  };
}

runMain(import.meta.url, 'result-svc', async (env, log) => {
  const { host, port } = bindAddress(env, 8081);
  return startResultSvc({
    host,
    port,
    resultBackend: fabricAddress('result-backend', env),
    pollMs: envInt(env, 'RESULT_POLL_MS', 250) || 250,
    instance: env.INSTANCE_NAME,
    log,
  });
});
