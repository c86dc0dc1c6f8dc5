import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, trellis, trellisInBackground } from './support/cli.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';
import { votingAppSpec } from './support/voting-app.js';
import { until } from './support/wait.js';

const PASSWORDS: Record<string, string> = {
  'infra/fabric-ops': 'fabric-ops-password',
  'voting-app/http-proxy': 'http-proxy-password',
  'voting-app/worker': 'worker-password',
};

/** A loopback port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('trellis CLI with kubectl habits, against a real orchestrator', () => {
  let t: TestOrchestrator;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let admin: string;
  const run = (...args: string[]) => trellis(args, { env });

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    url = await t.listen();
    env = await cliEnv();
    const login = await trellis(['login', '--orchestrator', url, '--username', 'admin', '--password-stdin'], {
      env,
      input: `${ADMIN_PASSWORD}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('`get KIND NAME` is a GET of that one object; a missing one names KIND and NAME and exits 3', async () => {
    const links = (await t.call('GET', '/api/v1/links', { token: admin })).body as { name: string }[];
    const link = links[0]!.name;
    const one = await run('get', 'link', link, '-o', 'json');
    expect(one.code, one.stderr).toBe(0);
    // One object, not a list of one.
    expect(JSON.parse(one.stdout)).toMatchObject({ name: link });
    const proc = await run('get', 'processor', 'aws-p1');
    expect(proc.code, proc.stderr).toBe(0);
    expect(proc.stdout.split('\n')[0]).toMatch(/^NAME\s+ZONE\s+DESCRIPTION/);
    expect(proc.stdout).toContain('aws-p1');
    const contract = await run('get', 'contract', 'voting-frontend', '-o', 'json');
    expect(JSON.parse(contract.stdout)).toMatchObject({ name: 'voting-frontend', domain: 'voting-app' });

    for (const [kind, name, says] of [
      ['link', 'nope--none', 'link "nope--none" not found'],
      ['processor', 'ghost-p9', 'processor "ghost-p9" not found'],
      ['node', 'ghost-99', 'node "ghost-99" not found'],
      ['contract', 'ghost-contract', 'contract "ghost-contract" not found'],
      ['flows', 'ghost-p9', 'processor "ghost-p9" not found'],
    ] as const) {
      const missing = await run('get', kind, name);
      expect(missing.code, `${kind} ${name}: ${missing.stderr}`).toBe(3);
      expect(missing.stderr).toContain(`error: ${says}`);
    }
  });

  it('-o wide adds columns to the table', async () => {
    const narrow = await run('get', 'contracts', '--domain', 'voting-app');
    const wide = await run('get', 'contracts', '--domain', 'voting-app', '-o', 'wide');
    expect(wide.code, wide.stderr).toBe(0);
    expect(narrow.stdout.split('\n')[0]).not.toContain('CLIENT PATH');
    expect(wide.stdout.split('\n')[0]).toMatch(/CONTRACT ID.*CLIENT PATH\s+SERVER PATH\s+DESCRIPTION$/);
    // wide is offered where a command has more columns, not everywhere.
    expect((await run('flows', 'aws-p1', '-o', 'wide')).code).toBe(2);
  });

  it('exit codes: 2 usage, 3 not found, 4 refused, 5 unavailable', async () => {
    const usage = await run('get', 'nodes', '--no-such-flag');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option '--no-such-flag'");
    expect((await run('get', 'nonsense')).code).toBe(2);
    expect((await run('get', 'tokens', 'some-id')).code).toBe(2);
    expect((await run('get', 'nodes', '--contract', 'x')).code).toBe(2);

    expect((await run('get', 'node', 'ghost-99')).code).toBe(3);

    const badToken = await trellis(['get', 'nodes'], { env: { ...env, TRELLIS_TOKEN: 'not-a-token' } });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain('error: ');
    const fresh = await cliEnv();
    const loggedOut = await trellis(['get', 'nodes'], { env: fresh });
    expect(loggedOut.code).toBe(4);
    expect(loggedOut.stderr).toContain('not logged in');
    // A host owner is no admin: forbidden is refused too.
    const owner = await t.login('http-proxy', PASSWORDS['voting-app/http-proxy']!, 'voting-app');
    const forbidden = await trellis(['get', 'processors'], { env: { ...env, TRELLIS_TOKEN: owner } });
    expect(forbidden.code, forbidden.stderr).toBe(4);

    // Nothing listening: unavailable, and said so (not "bad request").
    const port = await closedPort();
    const down = await trellis(['get', 'nodes'], {
      env: { ...env, TRELLIS_ORCHESTRATOR: `http://127.0.0.1:${port}` },
    });
    expect(down.code).toBe(5);
    expect(down.stderr).toContain(`cannot reach the orchestrator at http://127.0.0.1:${port}`);
  });

  it('`get nodes --watch` prints the table, then a line per node status change, until SIGTERM (exit 0)', async () => {
    const w = trellisInBackground(['get', 'nodes', '--watch'], env);
    try {
      await until('the header', async () => (w.out.stdout.startsWith('NAME') ? true : undefined));
      // Registered before or after the stream opens, it shows: the stream's `hello` re-reads.
      const owner = await t.login('worker', PASSWORDS['voting-app/worker']!, 'voting-app');
      const reg = await t.call('POST', '/api/v1/nodes/register', {
        token: owner,
        body: {
          name: 'aws-12',
          addresses: ['127.0.2.12'],
          publicKey: publicKeyPem(),
          processors: ['aws-p1'],
        },
      });
      expect(reg.status, JSON.stringify(reg.body)).toBe(200);
      const line = await until('the line of aws-12', async () =>
        w.out.stdout.split('\n').find((l) => l.startsWith('aws-12 ')),
      );
      expect(line).toMatch(/^aws-12\s+workload\s+fd[0-9a-f:]+\s+worker\s+voting-app\s+connected\s+\d+s ago$/);
      w.child.kill('SIGTERM');
      expect(await w.ended).toBe(0);
      expect(w.out.stderr).toBe('');
    } finally {
      w.child.kill('SIGKILL');
    }
  });

  it('a watch whose session is revoked ends: its stream is cut for good, exit 4', async () => {
    const token = await t.login('admin', ADMIN_PASSWORD);
    const w = trellisInBackground(['get', 'nodes', '--watch'], { ...env, TRELLIS_TOKEN: token });
    try {
      await until('the header', async () => (w.out.stdout.startsWith('NAME') ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      expect((await t.call('POST', '/api/v1/logout', { token })).status).toBeLessThan(300);
      const code = await Promise.race([
        w.ended,
        new Promise((r) => setTimeout(() => r('still running'), 15_000)),
      ]);
      expect(code).toBe(4);
      expect(w.out.stderr).toContain('error: ');
    } finally {
      w.child.kill('SIGKILL');
    }
  });

  it('`trellis logout` revokes the session on the server and forgets it locally', async () => {
    const cfgFile = join(env.TRELLIS_HOME!, 'config.yaml');
    const token = /token: (\S+)/.exec(await readFile(cfgFile, 'utf8'))?.[1];
    expect(token).toBeTruthy();
    const out = await run('logout');
    expect(out.code, out.stderr).toBe(0);
    expect(await readFile(cfgFile, 'utf8')).not.toContain(token!);
    // The server no longer takes it: a copy of the token is worth nothing.
    expect((await t.call('GET', '/api/v1/nodes', { token })).status).toBe(401);
    expect((await run('get', 'nodes')).code).toBe(4);
  });
});
