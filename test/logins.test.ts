import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api-client/client.js';
import { ask } from './support/ask.js';
import { cliEnv, type OrchestratorProcess, spawnOrchestrator, trellis } from './support/cli.js';
import { TestFabric } from './support/fabric.js';

const ADMIN_PW = 'logins-admin-password';
const STRANGER = '127.0.61.9';
const OWNER = '127.0.61.10';

const agents = new Map<string, Agent>();
/** An HTTP client whose connections leave from `from`, as a host with that address would. */
function from(address: string): Agent {
  let a = agents.get(address);
  if (!a) {
    // undici 6 takes the source address as a Client option (`connect.localAddress` is ignored).
    a = new Agent({ localAddress: address });
    agents.set(address, a);
  }
  return a;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the API's JSON answers and assert on them
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  o: { address: string; body?: unknown; token?: string },
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    dispatcher: from(o.address),
    ...(o.body !== undefined && { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: text ? JSON.parse(text) : null,
  };
}

/**
 * Opens the event stream with `token` and reads its first event; `ended` settles when the
 * orchestrator closes it (a cut stream may end cleanly or with a reset: either is the end).
 */
async function openStream(base: string, token: string): Promise<{ first: string; ended: Promise<void> }> {
  const res = await fetch(new URL('/api/v1/events', base), {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    dispatcher: from(OWNER),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const ended = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // reset: ended too
    }
  })();
  return { first, ended };
}

const login = (base: string, address: string, body: Record<string, string | undefined>) =>
  call(base, 'POST', '/api/v1/login', { address, body });

afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.close()));
});

describe('logins that cannot be turned against their owner', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let orch: OrchestratorProcess;
  let admin: ApiClient;
  let hostOwnerPw: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-logins-'));
    env = await cliEnv({ TRELLIS_ADMIN_PASSWORD: ADMIN_PW });
    orch = await spawnOrchestrator({ dataDir: join(dir, 'orchestrator'), env, listen: '127.0.61.1:0' });
    admin = new ApiClient(orch.url).withToken((await new ApiClient(orch.url).login('admin', ADMIN_PW)).token);
    await admin.request('POST', '/api/v1/domains', { name: 'hello' });
    await admin.request('POST', '/api/v1/domains', { name: 'other' });
    hostOwnerPw = 'service1-password';
    await admin.request('POST', '/api/v1/domains/hello/resource-users', {
      name: 'service1',
      kind: 'hostOwner',
      password: hostOwnerPw,
    });
    await admin.request('POST', '/api/v1/admin-users', {
      name: 'olga',
      role: 'domainAdmin',
      domain: 'other',
      password: 'olga-password',
    });
  }, 60_000);

  afterAll(async () => {
    await orch?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('five wrong passwords for admin from one address: the right one from another → 200, the guesser → 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await login(orch.url, STRANGER, { username: 'admin', password: `guess-${i}` });
      expect(res.status).toBe(401);
    }
    const owner = await login(orch.url, OWNER, { username: 'admin', password: ADMIN_PW });
    expect(owner.status).toBe(200);
    expect(owner.body.principal).toMatchObject({ type: 'admin', name: 'admin' });

    const guesser = await login(orch.url, STRANGER, { username: 'admin', password: ADMIN_PW });
    expect(guesser.status).toBe(429);
    const secs = Number(guesser.retryAfter);
    expect(secs).toBeGreaterThan(0);
    expect(guesser.body.error.code).toBe('TRELLIS_ERR_LOCKED_OUT');
    expect(guesser.body.error.message).toBe(
      `too many failed logins for "admin" from ${STRANGER}: retry in ${secs} s`,
    );
  });

  it('counts `service1` without a domain, `hello/service1` and `Service1` as one account', async () => {
    const guesser = '127.0.61.11';
    const forms = [
      { domain: 'hello', username: 'service1' },
      { username: 'service1' },
      { username: 'Service1' },
      { domain: 'Hello', username: 'service1' },
      { username: ' service1 ' },
    ];
    for (const [i, f] of forms.entries()) {
      const res = await login(orch.url, guesser, { ...f, password: `wrong-${i}` });
      expect(res.status, JSON.stringify(f)).toBe(401);
    }
    for (const f of forms) {
      const res = await login(orch.url, guesser, { ...f, password: hostOwnerPw });
      expect(res.status, JSON.stringify(f)).toBe(429);
    }
    // The owner, from its own address, logs in under any of the forms: they name service1.
    const res = await login(orch.url, '127.0.61.12', { username: 'Service1', password: hostOwnerPw });
    expect(res.status).toBe(200);
    expect(res.body.principal).toEqual({
      type: 'resource',
      name: 'service1',
      kind: 'hostOwner',
      domain: 'hello',
    });
  });

  it('stops one address guessing many accounts, each below its own limit', async () => {
    const guesser = '127.0.61.13';
    const answers: number[] = [];
    for (let i = 0; i < 24; i++) {
      answers.push((await login(orch.url, guesser, { username: `nobody-${i}`, password: 'x' })).status);
    }
    expect(answers.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(answers.slice(20)).toEqual([429, 429, 429, 429]);
    const admin = await login(orch.url, guesser, { username: 'admin', password: ADMIN_PW });
    expect(admin.status).toBe(429);
    expect(admin.body.error.message).toMatch(/^too many failed logins from 127\.0\.61\.13: retry in \d+ s$/);
    // Sent all at once, guesses are still counted one by one: no more than 5 reach the password check.
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        login(orch.url, '127.0.61.14', { username: 'admin', password: `burst-${i}` }),
      ),
    );
    expect(burst.filter((r) => r.status === 401)).toHaveLength(5);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(7);
  });

  it('`trellis logout` revokes the token: the old token answers 401 and leaves config.yaml', async () => {
    const home = await cliEnv();
    const lin = await trellis(
      ['login', '--orchestrator', orch.url, '--username', 'admin', '--password-stdin'],
      {
        env: home,
        input: ADMIN_PW,
      },
    );
    expect(lin.code, lin.stderr).toBe(0);
    const config = join(home.TRELLIS_HOME!, 'config.yaml');
    const token = /token: (\S+)/.exec(await readFile(config, 'utf8'))![1]!;
    expect((await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token })).status).toBe(200);

    const out = await trellis(['logout'], { env: home });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`logged out of ${orch.url}; token removed from ${config}`);
    const after = await readFile(config, 'utf8');
    expect(after).not.toContain(token);
    expect(after).toContain(`orchestrator: ${orch.url}`);

    const old = await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token });
    expect(old.status).toBe(401);
    expect(old.body.error.message).toBe('the token is invalid or has expired');
    const get = await trellis(['get', 'domains'], { env: home });
    expect(get.code).toBe(4);
    expect(get.stderr).toContain('not logged in');
    // Nothing left to revoke: said so, non-zero.
    const again = await trellis(['logout'], { env: home });
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('not logged in');
  });

  // It starts an orchestrator of its own: spawnOrchestrator allows a first start 60 s under a
  // loaded CI (the suite's default 30 s test timeout cut it short once).
  it('`trellis logout` over HTTPS uses the pinned CA and keeps the pin', { timeout: 90_000 }, async () => {
    const secure = await spawnOrchestrator({
      dataDir: join(dir, 'orchestrator-https'),
      env,
      listen: '127.0.61.2:0',
      https: true,
    });
    try {
      const home = await cliEnv();
      const lin = await trellis(
        [
          'login',
          '--orchestrator',
          secure.url,
          '--ca-fingerprint',
          secure.fingerprint,
          '--username',
          'admin',
          '--password-stdin',
        ],
        { env: home, input: ADMIN_PW },
      );
      expect(lin.code, lin.stderr).toBe(0);
      const config = join(home.TRELLIS_HOME!, 'config.yaml');
      const token = /token: (\S+)/.exec(await readFile(config, 'utf8'))![1]!;
      const out = await trellis(['logout'], { env: home });
      expect(out.code, out.stderr).toBe(0);
      const after = await readFile(config, 'utf8');
      expect(after).not.toContain(token);
      expect(after).toContain(secure.fingerprint.slice('sha256:'.length));
      const old = await trellis(['get', 'domains'], { env: { ...home, TRELLIS_TOKEN: token } });
      expect(old.code).toBe(4);
      expect(old.stderr).toContain('the token is invalid or has expired');
    } finally {
      await secure.stop();
    }
  });

  it('POST /api/v1/logout answers 204 and ends only the calling token', async () => {
    const a = (await login(orch.url, OWNER, { username: 'admin', password: ADMIN_PW })).body.token;
    const b = (await login(orch.url, OWNER, { username: 'admin', password: ADMIN_PW })).body.token;
    const stream = await openStream(orch.url, a);
    expect(stream.first).toContain('event: hello');
    const out = await call(orch.url, 'POST', '/api/v1/logout', { address: OWNER, token: a });
    expect(out.status).toBe(204);
    // Its open event stream is cut too (it was authenticated only when it opened).
    await stream.ended;
    expect((await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token: a })).status).toBe(401);
    expect((await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token: b })).status).toBe(200);
    expect((await call(orch.url, 'POST', '/api/v1/logout', { address: OWNER })).status).toBe(401);
  });

  it('`trellis revoke-sessions service1 --domain hello` ends every session of that user, audited; only its admins may', async () => {
    const tokens = [];
    for (let i = 0; i < 2; i++) {
      const res = await login(orch.url, '127.0.61.15', {
        domain: 'hello',
        username: 'service1',
        password: hostOwnerPw,
      });
      expect(res.status).toBe(200);
      tokens.push(res.body.token as string);
    }
    // A host owner's token is valid (403: not for it) until revoked (401).
    for (const token of tokens)
      expect((await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token })).status).toBe(403);

    const olgaEnv = await cliEnv();
    await trellis(['login', '--orchestrator', orch.url, '--username', 'olga', '--password-stdin'], {
      env: olgaEnv,
      input: 'olga-password',
    });
    const refused = await trellis(['revoke-sessions', 'service1', '--domain', 'hello'], { env: olgaEnv });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('domainAdmin:olga may not revoke sessions in domain "hello"');
    const notAdmin = await trellis(['revoke-sessions', 'admin'], { env: olgaEnv });
    expect(notAdmin.code).toBe(4);
    expect(notAdmin.stderr).toContain('only a systemAdmin may');

    const adminEnv = await cliEnv();
    await trellis(['login', '--orchestrator', orch.url, '--username', 'admin', '--password-stdin'], {
      env: adminEnv,
      input: ADMIN_PW,
    });
    const stream = await openStream(orch.url, tokens[0]!);
    const out = await trellis(['revoke-sessions', 'service1', '--domain', 'hello'], { env: adminEnv });
    expect(out.code, out.stderr).toBe(0);
    await stream.ended;
    // The owner's login of the normalisation test is the third session of service1.
    expect(out.stdout).toBe('revoked 3 sessions of hello/service1\n');
    for (const token of tokens)
      expect((await call(orch.url, 'GET', '/api/v1/domains', { address: OWNER, token })).status).toBe(401);
    // The admin's own session is untouched.
    expect((await trellis(['get', 'domains'], { env: adminEnv })).code).toBe(0);

    const audit = await admin.audit('hello');
    expect(audit[0]).toMatchObject({
      actor: 'systemAdmin:admin',
      action: 'delete',
      kind: 'session',
      name: 'service1',
      domain: 'hello',
    });
    const missing = await trellis(['revoke-sessions', 'ghost', '--domain', 'hello'], { env: adminEnv });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('resource user "ghost" not found in domain "hello"');
  });
});

/** service2 of seed 001: answers who it is. */
function startService2(host: string, port: number): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('data', () => s.end(`Hello from service2 at ${host}:${port}`));
    s.on('error', () => undefined);
  });
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

describe('an agent whose host owner is being guessed at', () => {
  const HELLO = readFile(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');
  const BASE = 20000 + Math.floor(Math.random() * 20000);
  let f: TestFabric;
  let service2: net.Server;
  const aws11 = {
    vm: 'aws-11',
    hostOwner: 'service1',
    domain: 'hello',
    address: '127.0.61.21',
    processors: ['aws-p1'],
  };
  const gcp11 = {
    vm: 'gcp-11',
    hostOwner: 'service2',
    domain: 'hello',
    address: '127.0.61.22',
    processors: ['gcp-p1'],
    serve: [`hello=127.0.61.22:${BASE + 10}`],
  };

  beforeAll(async () => {
    f = await TestFabric.start(await HELLO);
    await f.processor('aws-p1', '127.0.61.31', BASE);
    await f.processor('gcp-p1', '127.0.61.32', BASE + 1);
    service2 = await startService2('127.0.61.22', BASE + 10);
    await f.agent(gcp11);
    await f.agent(aws11);
  }, 90_000);

  afterAll(async () => {
    service2?.close();
    await f?.stop();
  });

  /** Stops a VM's agent and waits until the orchestrator shows it gone. */
  async function stopAgent(vm: string): Promise<void> {
    const child = f.children.get(vm)!;
    const exited = new Promise((r) => child.once('exit', r));
    f.kill(vm, 'SIGTERM');
    await exited;
    await f.waitFor(
      async () => (await f.admin.nodes()).some((n) => n.name === vm && n.status === 'disconnected'),
      `${vm} disconnected`,
    );
  }

  async function helloWorks(server = `127.0.61.22:${BASE + 10}`): Promise<void> {
    const env = await f.envOf(join(f.dir, 'aws-11', 'fabric.env'));
    await f.waitFor(
      async () => (await ask(env.HELLO_ADDR!)) === `Hello from service2 at ${server}`,
      `a hello flow through the fabric to ${server}`,
    );
  }

  it('keeps running and reconnects after a restart while service1 is guessed at from another address', async () => {
    await helloWorks();
    const pw = f.passwords['hello/service1']!;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await login(f.orch.url, STRANGER, { domain: 'hello', username: 'service1', password: `guess-${i}` }))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(
      (await login(f.orch.url, STRANGER, { domain: 'hello', username: 'service1', password: pw })).status,
    ).toBe(429);

    await stopAgent('aws-11');
    await f.agent(aws11);
    expect(f.children.get('aws-11')!.exitCode).toBeNull();
    // It logged in at once (with its own key, and the stranger's address is not its own).
    expect(f.logs.get('aws-11')!.join('')).not.toContain('rate-limited');
    await helloWorks();
  }, 60_000);

  it('a new agent that itself gets a 429 waits it out (Retry-After) and comes up', async () => {
    // A registered node logs in with its key; a new one (gcp-12, never registered) has only
    // its owner's password, here guessed at from its own address (agents reach the
    // orchestrator from 127.0.0.1) — the one case the per-address count cannot tell apart.
    for (let i = 0; i < 5; i++) {
      const res = await login(f.orch.url, '127.0.0.1', {
        domain: 'hello',
        username: 'service2',
        password: `guess-${i}`,
      });
      expect(res.status).toBe(401);
    }
    const locked = await login(f.orch.url, '127.0.0.1', {
      domain: 'hello',
      username: 'service2',
      password: f.passwords['hello/service2']!,
    });
    expect(locked.status).toBe(429);

    // gcp-12 takes over serving hello, so the flow below can only reach it.
    await stopAgent('gcp-11');
    const gcp12 = await startService2('127.0.61.23', BASE + 11);
    try {
      await f.agent({
        ...gcp11,
        vm: 'gcp-12',
        address: '127.0.61.23',
        serve: [`hello=127.0.61.23:${BASE + 11}`],
        waitMs: 30_000 + Number(locked.retryAfter) * 1000,
      });
      const log = f.logs.get('gcp-12')!.join('');
      expect(log).toContain('login rate-limited; waiting');
      expect(f.children.get('gcp-12')!.exitCode).toBeNull();
      await helloWorks(`127.0.61.23:${BASE + 11}`);
    } finally {
      gcp12.close();
    }
  }, 90_000);
});
