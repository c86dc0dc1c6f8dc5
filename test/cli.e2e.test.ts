import { copyFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type OrchestratorProcess, spawnOrchestrator, trellis } from './support/cli.js';
import { type StoreTarget, storeTargets } from './support/stores.js';
import { FABRIC_FILE, SEED_CONTRACTS } from './support/voting-app.js';

const PASSWORD = 'e2e-admin-password';

describe.each(storeTargets())(
  'trellis CLI against a real orchestrator process ($name)',
  (target: StoreTarget) => {
    let orch: OrchestratorProcess;
    let env: NodeJS.ProcessEnv;
    let store: Awaited<ReturnType<StoreTarget['create']>>;
    let work: string;
    let fabric: string;
    const run = (...args: string[]) => trellis(args, { env });

    beforeAll(async () => {
      store = await target.create();
      env = await cliEnv({
        TRELLIS_ADMIN_PASSWORD: PASSWORD,
        ...(store.databaseUrl && { DATABASE_URL: store.databaseUrl }),
      });
      orch = await spawnOrchestrator({ dataDir: store.dataDir, env });
      // A copy, so the generated secrets file lands beside it and not in the checkout.
      work = await mkdtemp(join(tmpdir(), 'trellis-e2e-'));
      fabric = join(work, 'fabric.yaml');
      await copyFile(FABRIC_FILE, fabric);
      // A database to create, then an orchestrator's first start, which spawnOrchestrator allows
      // 60 s on a loaded CI: the suite's 60 s hook timeout cut the pair short once.
    }, 120_000);
    afterAll(async () => {
      await orch?.stop();
      await store?.cleanup();
    });

    it('logs in with --password-stdin and keeps the token in $TRELLIS_HOME/config.yaml (0600)', async () => {
      const wrong = await trellis(
        ['login', '--orchestrator', orch.url, '--username', 'admin', '--password-stdin'],
        { env, input: 'nope' },
      );
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('wrong username or password');
      const ok = await trellis(
        ['login', '--orchestrator', orch.url, '--username', 'admin', '--password-stdin'],
        { env, input: `${PASSWORD}\n` },
      );
      expect(ok.code, ok.stderr).toBe(0);
      const cfg = join(env.TRELLIS_HOME!, 'config.yaml');
      expect((await stat(cfg)).mode & 0o777).toBe(0o600);
      expect(await readFile(cfg, 'utf8')).toContain(orch.url);
    });

    it('applies the Voting App and lists the 6 contracts with the seed roles and unique IDs', async () => {
      const applied = await run('apply', '-f', fabric);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('+ create contract voting-app/voting-frontend');
      const secrets = await readFile(join(work, 'voting-app.secrets.yaml'), 'utf8');
      expect(secrets).toContain('voting-app/http-proxy:');
      expect((await stat(join(work, 'voting-app.secrets.yaml'))).mode & 0o777).toBe(0o600);

      const got = await run('get', 'contracts', '--domain', 'voting-app', '-o', 'json');
      expect(got.code, got.stderr).toBe(0);
      const contracts = JSON.parse(got.stdout) as {
        name: string;
        domain: string;
        id: number;
        roles: { name: string; users: string[] }[];
      }[];
      expect(contracts.map((c) => c.name).sort()).toEqual(Object.keys(SEED_CONTRACTS).sort());
      expect(new Set(contracts.map((c) => c.id)).size).toBe(6);
      for (const c of contracts) {
        expect(c.domain).toBe('voting-app');
        const [client, server] = SEED_CONTRACTS[c.name]!;
        expect(c.roles.map((r) => [r.name, r.users])).toEqual([
          ['client', [client]],
          ['server', [server]],
        ]);
      }
      const topo = JSON.parse((await run('get', 'domain-topology', 'voting-app', '-o', 'json')).stdout);
      expect(topo.nodes).toHaveLength(6);
      expect(topo.edges).toHaveLength(6);
      expect(topo.edges[0]).toEqual({
        contract: expect.any(String),
        client: expect.any(String),
        server: expect.any(String),
        contractId: expect.any(Number),
      });
    });

    it('re-applies with 0 changes, and exactly 1 update after one role changes in a copy', async () => {
      const again = await run('apply', '-f', fabric, '--dry-run', '-o', 'json');
      expect(JSON.parse(again.stdout).changes).toEqual([]);
      const copy = join(work, 'fabric-transit.yaml');
      const text = await readFile(fabric, 'utf8');
      // The voting-frontend client role gets the seed's transit.
      const edited = text.replace(
        /(- name: voting-frontend[\s\S]*?client: \{ users: \[http-proxy\]) \}/,
        '$1, pathParams: { role: server, contract: voting-frontend, transit: aws-p2 } }',
      );
      expect(edited).not.toBe(text);
      await writeFile(copy, edited);
      const one = JSON.parse((await run('apply', '-f', copy, '--dry-run', '-o', 'json')).stdout);
      expect(
        one.changes.map((c: { action: string; kind: string; name: string }) => [c.action, c.kind, c.name]),
      ).toEqual([['update', 'role', 'voting-frontend/client']]);
    });

    it('computes the path without aws-p2, and through it after `trellis edit role`', async () => {
      const before = await run(
        'path',
        '--from',
        'aws-p1',
        '--to',
        'gcp-p1',
        '--contract',
        'voting-frontend',
        '-o',
        'json',
      );
      expect(JSON.parse(before.stdout).path).not.toContain('aws-p2');
      const edit = await run(
        'edit',
        'role',
        'voting-frontend',
        'client',
        '--path-params',
        '{"role":"server","contract":"voting-frontend","transit":"aws-p2"}',
      );
      expect(edit.code, edit.stderr).toBe(0);
      const after = await run(
        'path',
        '--from',
        'aws-p1',
        '--to',
        'gcp-p1',
        '--contract',
        'voting-frontend',
        '-o',
        'json',
      );
      expect(JSON.parse(after.stdout)).toMatchObject({ path: ['aws-p1', 'aws-p2', 'gcp-p1'], cost: 15 });
      const shown = JSON.parse(
        (await run('get', 'contracts', '--domain', 'voting-app', '-o', 'json')).stdout,
      );
      expect(
        shown.find((c: { name: string }) => c.name === 'voting-frontend').roles[0].pathParams.transit,
      ).toBe('aws-p2');
    });

    it('names the file, line and field of an unknown processor in a transit list, and changes nothing', async () => {
      const bad = join(work, 'fabric-bad.yaml');
      const text = (await readFile(fabric, 'utf8')).replace(
        /(- name: result-frontend[\s\S]*?client: \{ users: \[http-proxy\]) \}/,
        '$1, pathParams: { transit: [aws-p2, aws-p9] } }',
      );
      await writeFile(bad, text);
      const line = text.split('\n').findIndex((l) => l.includes('aws-p9')) + 1;
      const res = await run('apply', '-f', bad);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`${bad}:${line}:`);
      expect(res.stderr).toContain('unknown processor "aws-p9" in transit');
      expect(
        JSON.parse((await run('apply', '-f', fabric, '--dry-run', '-o', 'json')).stdout).changes,
      ).toHaveLength(1);
    });

    it('refuses transit aws-p2 with avoid [aws-p2] (issue 11 finding 5: was exit 0, then every flow 502) naming FILE:LINE, and changes nothing', async () => {
      const bad = join(work, 'fabric-contradiction.yaml');
      const text = (await readFile(fabric, 'utf8')).replace(
        /(- name: result-frontend[\s\S]*?client: \{ users: \[http-proxy\]) \}/,
        '$1,\n          pathParams: { transit: aws-p2,\n            avoid: [aws-p2] } }',
      );
      await writeFile(bad, text);
      const line = text.split('\n').findIndex((l) => l.includes('avoid: [aws-p2]')) + 1;
      const res = await run('apply', '-f', bad);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`${bad}:${line}:`);
      expect(res.stderr).toContain('pathParams.avoid[0]');
      expect(res.stderr).toContain('transit aws-p2 is also in avoid');
      expect(
        JSON.parse((await run('apply', '-f', fabric, '--dry-run', '-o', 'json')).stdout).changes,
      ).toHaveLength(1);
    });

    it('refuses a path that cannot be met with a non-zero exit and the reason', async () => {
      const res = await run('path', '--from', 'aws-p1', '--to', 'nowhere-p1');
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('nowhere-p1');
    });

    it('keeps everything after the orchestrator restarts on the same data', async () => {
      const before = (await run('get', 'contracts', '-o', 'json')).stdout;
      await orch.stop();
      orch = await spawnOrchestrator({ dataDir: store.dataDir, env, listen: new URL(orch.url).host });
      const after = await run('get', 'contracts', '-o', 'json');
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toBe(before);
    });
  },
);
