import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedAddress, parseHostPort } from '../../examples/voting-app/src/fabric-address.js';
import { PgliteQueue } from '../../examples/voting-app/src/queue/pglite-queue.js';
import { type RunningVotingDb, startVotingDb } from '../../examples/voting-app/src/services/voting-db.js';
import { type RunningVotingSvc, startVotingSvc } from '../../examples/voting-app/src/services/voting-svc.js';
import { Browser } from './http-client.js';

/** voting-svc on its own, against an embedded voting-db, as a browser or curl sees it. */
const HOST = '127.0.8.51';
let db: RunningVotingDb;
let svc: RunningVotingSvc;
let once: RunningVotingSvc;

beforeAll(async () => {
  db = await startVotingDb({ host: HOST, port: 0, kind: 'pglite' });
  svc = await startVotingSvc({
    host: HOST,
    port: 0,
    votingBackend: fixedAddress(db.address),
    instance: 'vote-a',
  });
  once = await startVotingSvc({
    host: HOST,
    port: 0,
    votingBackend: fixedAddress(db.address),
    onePersonOneVote: true,
    instance: 'vote-once',
  });
});
afterAll(async () => {
  await svc?.close();
  await once?.close();
  await db?.close();
});

describe('voting-svc', () => {
  it('gives a new voter a 128-bit id in an HttpOnly, SameSite=Lax, long-lived cookie', async () => {
    const b = new Browser(svc.url);
    const r = await b.get('/voting/vote');
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^voter_id=[0-9a-f]{32};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(Number(/Max-Age=(\d+)/.exec(cookie)?.[1])).toBeGreaterThanOrEqual(365 * 24 * 3600);
    expect(r.body).toContain('Mesos or Kubernetes?');
    expect(r.body).toContain('value="Mesos"');
    expect(r.body).toContain('value="Kubernetes"');
    expect(r.body).toContain('vote-a');
    expect(r.body).toContain('You have not voted yet');
    // The cookie is kept: a second visit sets none.
    expect((await b.get('/voting/vote')).headers['set-cookie']).toBeUndefined();
  });

  it('shows the voter’s current choice, and a new vote replaces it', async () => {
    const b = new Browser(svc.url);
    const first = await b.vote('Mesos');
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/Your current vote: <strong>Mesos<\/strong>/);
    const second = await b.vote('Kubernetes', { accept: 'application/json' });
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ vote: 'Kubernetes', seq: 2, instance: 'vote-a' });
    expect((await b.get('/voting/vote')).body).toMatch(/Your current vote: <strong>Kubernetes<\/strong>/);
  });

  it('refuses vote=Nomad with 400 naming the allowed options, and stores nothing', async () => {
    const q = await PgliteQueue.connect(parseHostPort(db.address));
    try {
      const before = await q.size();
      const b = new Browser(svc.url);
      const page = await b.vote('Nomad');
      expect(page.status).toBe(400);
      expect(page.body).toContain('vote must be one of Mesos, Kubernetes (got &#34;Nomad&#34;)');
      const json = await b.vote('Nomad', { accept: 'application/json' });
      expect(json.status).toBe(400);
      expect(JSON.parse(json.body)).toEqual({
        error: 'vote must be one of Mesos, Kubernetes (got "Nomad")',
        field: 'vote',
        allowed: ['Mesos', 'Kubernetes'],
      });
      const missing = await b.postForm('/voting/vote', {}, { accept: 'application/json' });
      expect(missing.status).toBe(400);
      expect(JSON.parse(missing.body).error).toBe('vote must be one of Mesos, Kubernetes (got nothing)');
      expect(await q.size()).toBe(before);
    } finally {
      await q.close();
    }
  });

  it('with ONE_PERSON_ONE_VOTE=true refuses a second ballot with a clear message', async () => {
    const b = new Browser(once.url);
    expect((await b.vote('Kubernetes')).status).toBe(200);
    const again = await b.vote('Mesos');
    expect(again.status).toBe(409);
    expect(again.body).toContain(
      'You have already voted for Kubernetes: this poll allows one vote per person.',
    );
    const json = await b.vote('Mesos', { accept: 'application/json' });
    expect(json.status).toBe(409);
    expect(JSON.parse(json.body)).toEqual({
      error: 'You have already voted for Kubernetes: this poll allows one vote per person.',
      current: 'Kubernetes',
    });
    expect((await b.get('/voting/vote')).body).toMatch(/Your current vote: <strong>Kubernetes<\/strong>/);
  });

  it('answers 405 for other methods and 404 for other paths', async () => {
    const b = new Browser(svc.url);
    expect((await b.send('DELETE', '/voting/vote')).status).toBe(405);
    expect((await b.get('/voting/other')).status).toBe(404);
  });

  it('/healthz is live; /readyz reports voting-backend', async () => {
    const b = new Browser(svc.url);
    expect(JSON.parse((await b.get('/healthz')).body)).toEqual({ service: 'voting-svc', status: 'ok' });
    const ready = await b.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body).upstreams).toEqual({ 'voting-backend': 'ok' });
  });

  it('answers 503 (not a hang, not a crash) while voting-db is unreachable', async () => {
    const lost = await startVotingSvc({
      host: HOST,
      port: 0,
      votingBackend: fixedAddress(`${HOST}:1`),
      votingDbKind: 'pglite',
      storeWaitMs: 500,
    });
    try {
      const b = new Browser(lost.url);
      const r = await b.vote('Mesos', { accept: 'application/json' });
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).error).toMatch(/voting-db is unreachable; your vote was not recorded/);
      const ready = await b.get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).upstreams['voting-backend']).toMatch(/^error: /);
    } finally {
      await lost.close();
    }
  });
});
