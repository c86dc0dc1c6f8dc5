import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { allowedOptionsMessage, isOption, labelOf, OPTIONS, type VoteOption } from '../config.js';
import { type AddressSource, fabricAddress } from '../fabric-address.js';
import { handleHealth } from '../health.js';
import {
  BodyTooLarge,
  closeServer,
  listen,
  pathOf,
  readBody,
  sendHtml,
  sendJson,
  wantsJson,
} from '../http-kit.js';
import { silentLogger } from '../log.js';
import type { VotingStore } from '../queue/ballot-queue.js';
import { parseVotingDbKind, type VotingDbKindSetting } from '../queue/connect.js';
import { bindAddress, envFlag, type RunningService, runMain } from '../service-main.js';
import { pingCheck, using, votingStoreUpstream } from '../upstreams.js';
import { votePage } from '../vote-page.js';
import { newVoterId, voterCookie, voterIdFrom } from '../voter-cookie.js';

/**
 * voting-svc: the vote page. GET /voting/vote shows the question, the voter's current choice
 * and which instance answered; POST /voting/vote with `vote=Mesos|Kubernetes` casts a ballot
 * into voting-db over contract voting-backend. By default a voter may vote again and the new
 * choice replaces the old one; with ONE_PERSON_ONE_VOTE=true a second ballot is refused (409).
 *
 *   TRELLIS_VM_ADDRESS, PORT (default 8080)
 *   VOTING_BACKEND_ADDR   voting-db through the agent's listener (or TRELLIS_ENV_FILE)
 *   VOTING_DB_KIND        redis | pglite | auto (probe; default)
 *   ONE_PERSON_ONE_VOTE   true | false (default false)
 *   INSTANCE_NAME         shown on the page (default hostname/address:port)
 */
export interface VotingSvcOptions {
  host: string;
  port: number;
  votingBackend: AddressSource;
  votingDbKind?: VotingDbKindSetting;
  onePersonOneVote?: boolean;
  instance?: string;
  log?: Logger;
  /** Key prefix when voting-db is Redis (tests sharing one server). */
  redisPrefix?: string;
  /** How long a request waits for voting-db before answering 503 (default 3 s). */
  storeWaitMs?: number;
}

export interface RunningVotingSvc extends RunningService {
  url: string;
}

export async function startVotingSvc(o: VotingSvcOptions): Promise<RunningVotingSvc> {
  const log = o.log ?? silentLogger();
  const storeWaitMs = o.storeWaitMs ?? 3_000;
  const store = votingStoreUpstream({
    contract: 'voting-backend',
    address: o.votingBackend,
    kind: o.votingDbKind ?? 'auto',
    log,
    redisPrefix: o.redisPrefix,
  });
  const checks = [pingCheck(store, (s) => s.ping())];
  let stopping = false;
  let instance = o.instance ?? '';

  const server = createServer((req, res) => {
    if (handleHealth(req, res, 'voting-svc', checks, () => stopping)) return;
    const path = pathOf(req);
    if (path !== '/voting/vote') {
      sendJson(res, 404, { error: `no such page: ${path}`, hint: 'GET or POST /voting/vote' });
      return;
    }
    const handler =
      req.method === 'POST' ? castVote : req.method === 'GET' || req.method === 'HEAD' ? showPage : undefined;
    if (!handler) {
      res.setHeader('allow', 'GET, HEAD, POST');
      sendJson(res, 405, {
        error: `${req.method} not allowed on /voting/vote`,
        hint: 'GET the page or POST vote=…',
      });
      return;
    }
    handler(req, res).catch((err: Error) => {
      log.error({ err: err.message }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  });

  /** The voter id, minting one (and its cookie) on a first visit. */
  function identify(req: IncomingMessage, res: ServerResponse): string {
    const known = voterIdFrom(req);
    if (known) return known;
    const id = newVoterId();
    res.setHeader('set-cookie', voterCookie(id, req.headers['x-forwarded-proto'] === 'https'));
    return id;
  }

  async function showPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const voterId = identify(req, res);
    let current: VoteOption | undefined;
    let notice: { kind: 'error'; text: string } | undefined;
    try {
      current = await using(store, storeWaitMs, (s) => s.choiceOf(voterId));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'voting-db unreachable while showing the page');
      notice = {
        kind: 'error',
        text: 'Your current vote cannot be shown right now (voting-db unreachable).',
      };
    }
    if (wantsJson(req)) sendJson(res, 200, { options: OPTIONS, current: current ?? null, instance });
    else sendHtml(res, 200, votePage({ current, instance, notice }));
  }

  async function castVote(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendJson(res, 413, { error: err.message });
      throw err;
    }
    const voterId = identify(req, res);
    const vote = new URLSearchParams(body).get('vote') ?? undefined;
    const json = wantsJson(req);
    if (!isOption(vote)) {
      const message = allowedOptionsMessage(vote);
      if (json) return sendJson(res, 400, { error: message, field: 'vote', allowed: OPTIONS });
      return sendHtml(res, 400, votePage({ instance, notice: { kind: 'error', text: message } }));
    }
    let result: Awaited<ReturnType<VotingStore['cast']>>;
    try {
      result = await using(store, storeWaitMs, (s) =>
        s.cast(voterId, vote, { onePersonOneVote: o.onePersonOneVote }),
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'ballot not cast: voting-db unreachable');
      const message = 'voting-db is unreachable; your vote was not recorded, please try again';
      if (json) return sendJson(res, 503, { error: message }, { 'retry-after': '2' });
      return sendHtml(res, 503, votePage({ instance, notice: { kind: 'error', text: message } }), {
        'retry-after': '2',
      });
    }
    if (!result.ok) {
      const prev = result.previous ? ` for ${labelOf(result.previous)}` : '';
      const message = `You have already voted${prev}: this poll allows one vote per person.`;
      if (json) return sendJson(res, 409, { error: message, current: result.previous ?? null });
      return sendHtml(
        res,
        409,
        votePage({ current: result.previous, instance, notice: { kind: 'error', text: message } }),
      );
    }
    // debug, not info: a synchronous write to stdout per ballot was ~8 % of voting-svc's CPU
    // under load (bench/voting); failures are still logged at warn.
    log.debug({ vote, seq: result.ballot.seq }, 'ballot cast');
    if (json) return sendJson(res, 200, { vote, seq: result.ballot.seq, instance });
    sendHtml(
      res,
      200,
      votePage({
        current: vote,
        instance,
        notice: { kind: 'ok', text: `Thank you — your vote for ${labelOf(vote)} is in.` },
      }),
    );
  }

  const port = await listen(server, o.host, o.port);
  instance ||= `${hostname()}/${o.host}:${port}`;
  log.info({ address: `${o.host}:${port}`, onePersonOneVote: !!o.onePersonOneVote }, 'voting-svc listening');
  // Connect now, so the first voter does not wait for it (and /readyz turns green early).
  store.get().catch(() => {});
  return {
    url: `http://${o.host}:${port}`,
    async close() {
      stopping = true;
      await closeServer(server);
      await store.close();
    },
  };
}

runMain(import.meta.url, 'voting-svc', async (env, log) => {
  const { host, port } = bindAddress(env, 8080);
  return startVotingSvc({
    host,
    port,
    votingBackend: fabricAddress('voting-backend', env),
    votingDbKind: parseVotingDbKind(env.VOTING_DB_KIND),
    onePersonOneVote: envFlag(env, 'ONE_PERSON_ONE_VOTE'),
    instance: env.INSTANCE_NAME,
    log,
  });
});
