import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api-client/client.js';
import { parseFabricText } from '../src/apply/index.js';
import { orchestratorLogger } from '../src/orchestrator/log.js';
import { createOrchestrator } from '../src/orchestrator/server.js';
import { proxyEchoService } from './attacks/support.js';
import { spawnOrchestrator, trellis } from './support/cli.js';
import { TestFabric } from './support/fabric.js';
import { storeTargets } from './support/stores.js';

/**
 * Issue 11, store integrity: `trellis backup --out FILE` and `trellis orchestrator --restore
 * FILE --data-dir D`. The way out of every refusal in test/attacks/store-damage.test.ts is a
 * restore, so it must bring back a fabric its nodes keep working with: the same CA (their
 * certificates), the same ticket key (their tickets), every domain and contract.
 */

const example = (rel: string) => readFileSync(new URL(`../examples/${rel}`, import.meta.url), 'utf8');
const HELLO = example('hello/fabric.yaml');
const VOTING = example('voting-app/fabric.yaml');
const BASE = 42000 + Math.floor(Math.random() * 8000);

/** One request through the fabric: connect to the client listener, read the answer to the end. */
function ask(addr: string): Promise<string> {
  const [host, port] = addr.split(':');
  return new Promise((resolve) => {
    let body = '';
    const s = connect({ host: host!, port: Number(port), localAddress: host! }, () => s.write('hi'));
    s.on('data', (d) => {
      body += d;
    });
    s.on('close', () => resolve(body));
    s.on('error', () => resolve(body));
    s.setTimeout(5000, () => s.destroy());
  });
}

describe.each(storeTargets().map((t, i) => [t.name, t, i] as const))(
  'backup and restore (%s)',
  (_name, target, i) => {
    const net = `127.0.141.${10 + i * 20}`;
    const at = (n: number) => `127.0.141.${10 + i * 20 + n}`;
    const port = BASE + i * 100;
    let f: TestFabric;
    let echo: Server;
    let helloAddr: string;
    let newStore: Awaited<ReturnType<typeof target.create>>;
    let oldStore: Awaited<ReturnType<typeof target.create>>;

    beforeAll(async () => {
      oldStore = await target.create();
      newStore = await target.create();
      f = await TestFabric.start(HELLO, {
        listen: `${net}:${port}`,
        ...(oldStore.databaseUrl && { env: { DATABASE_URL: oldStore.databaseUrl } }),
      });
      await f.processor('aws-p1', at(1), port + 1);
      await f.processor('aws-p2', at(2), port + 2);
      await f.processor('gcp-p1', at(3), port + 3);
      echo = (await proxyEchoService(at(12), port + 10)).server;
      await f.agent({
        vm: 'gcp-11',
        hostOwner: 'service2',
        domain: 'hello',
        address: at(12),
        processors: ['gcp-p1'],
        serve: [`hello=${at(12)}:${port + 10}`],
      });
      const env = await f.envOf(
        await f.agent({
          vm: 'aws-11',
          hostOwner: 'service1',
          domain: 'hello',
          address: at(11),
          processors: ['aws-p1'],
        }),
      );
      helloAddr = env.HELLO_ADDR!;
    }, 180_000);

    afterAll(async () => {
      echo?.close();
      await f?.stop();
      await oldStore?.cleanup();
      await newStore?.cleanup();
    });

    it('restores into a fresh data dir; the old nodes, with their certificates, keep working', async () => {
      expect(await ask(helloAddr)).toMatch(new RegExp(`^Hello from ${at(11).replaceAll('.', '\\.')}:\\d+$`));
      const before = {
        domains: await f.admin.domains(),
        contracts: await f.admin.contracts(),
        nodes: (await f.admin.nodes()).map((n) => ({ name: n.name, nodeId: n.nodeId })),
        users: await f.admin.resourceUsers(),
        ca: await f.admin.ca(),
      };
      expect(before.nodes).toHaveLength(5);

      // trellis backup, as an operator runs it.
      const login = await trellis(
        ['login', '--orchestrator', f.orch.url, '--username', 'admin', '--password-stdin'],
        {
          env: f.env,
          input: 'fabric-admin-pw\n',
        },
      );
      expect(login.code, login.stderr).toBe(0);
      const file = join(f.dir, 'fabric.backup');
      const backup = await trellis(['backup', '--out', file], { env: f.env });
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toContain(`backup written to ${file} (mode 0600`);
      expect(backup.stdout).toContain('2 domains, 1 contracts, 5 nodes, 3 processors');
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      // The orchestrator is lost; the nodes keep running (on their tickets) and wait for it.
      await f.orch.stop();
      const restoreEnv = { ...f.env, ...(newStore.databaseUrl && { DATABASE_URL: newStore.databaseUrl }) };
      if (!newStore.databaseUrl) delete restoreEnv.DATABASE_URL;
      // Never over a data dir that holds something: here the old one.
      const over = await trellis(
        ['orchestrator', '--restore', file, '--data-dir', join(f.dir, 'orchestrator')],
        {
          env: restoreEnv,
        },
      );
      expect(over.code).not.toBe(0);
      expect(over.stderr).toContain(`--data-dir ${join(f.dir, 'orchestrator')} is not empty`);

      const dir = join(await mkdtemp(join(tmpdir(), 'trellis-restored-')), 'orchestrator');
      const restored = await trellis(['orchestrator', '--restore', file, '--data-dir', dir], {
        env: restoreEnv,
      });
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stderr).toContain(`restored ${file} into`);
      for (const k of ['ca.key', 'ticket.key']) expect((await stat(join(dir, k))).mode & 0o777).toBe(0o600);

      // A normal start on the restored dir, at the address the nodes know.
      const t0 = new Date();
      f.orch = await spawnOrchestrator({ dataDir: dir, env: restoreEnv, listen: `${net}:${port}` });
      const api = new ApiClient(f.orch.url);
      f.admin = api.withToken((await api.login('admin', 'fabric-admin-pw')).token);
      expect(await f.admin.domains()).toEqual(before.domains);
      expect(await f.admin.contracts()).toEqual(before.contracts);
      expect(await f.admin.resourceUsers()).toEqual(before.users);
      expect(await f.admin.ca()).toEqual(before.ca);
      // Every node comes back by itself: its event stream reconnects with its own key and certificate.
      await f.waitFor(
        async () =>
          (await f.admin.nodes()).every((n) => n.status === 'connected' && new Date(n.lastSeen) > t0),
        'every node reconnected to the restored orchestrator',
        60_000,
      );
      expect((await f.admin.nodes()).map((n) => ({ name: n.name, nodeId: n.nodeId }))).toEqual(before.nodes);
      expect(await ask(helloAddr)).toMatch(/^Hello from /);

      // A change after the restore: new tickets, signed with the restored key, for a new path.
      await f.admin.setRole('hello', 'hello', 'client', {
        pathParams: { role: 'server', contract: 'hello', transit: 'aws-p2' },
      });
      const contractId = before.contracts[0]!.id;
      await f.waitFor(async () => {
        if (!(await ask(helloAddr)).startsWith('Hello from')) return false;
        const t = await f.admin.request<{ table50: { contractId: number }[] }>(
          'GET',
          '/api/v1/processors/aws-p2/flows',
        );
        return t.table50.some((e) => e.contractId === contractId);
      }, 'a flow through aws-p2 after the restore');
    }, 240_000);
  },
);

describe('backup and restore of the Voting App fabric', () => {
  it('round-trips: applying the same fabric file after the restore changes nothing', async () => {
    const logger = orchestratorLogger('silent');
    const dir = await mkdtemp(join(tmpdir(), 'trellis-voting-'));
    const orch = await createOrchestrator({
      dataDir: join(dir, 'a'),
      adminPassword: 'voting-admin-pw',
      logger,
    });
    const call = async (
      o: typeof orch,
      method: 'GET' | 'POST',
      url: string,
      token?: string,
      body?: unknown,
    ) => {
      const res = await o.app.inject({
        method,
        url,
        headers: {
          ...(token && { authorization: `Bearer ${token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { payload: JSON.stringify(body) }),
      });
      return JSON.parse(res.body);
    };
    const token = async (o: typeof orch) =>
      (await call(o, 'POST', '/api/v1/login', undefined, { username: 'admin', password: 'voting-admin-pw' }))
        .token as string;
    const spec = parseFabricText(VOTING, 'fabric.yaml').spec;
    const t1 = await token(orch);
    await call(orch, 'POST', '/api/v1/apply', t1, { spec, prune: false, dryRun: false, passwords: {} });
    const contracts = await call(orch, 'GET', '/api/v1/contracts', t1);
    const backup = await call(orch, 'GET', '/api/v1/backup', t1);
    await orch.close();
    const file = join(dir, 'voting.backup');
    await writeFile(file, JSON.stringify(backup), { mode: 0o600 });

    const { restoreBackup } = await import('../src/orchestrator/backup/restore.js');
    await restoreBackup(file, { dataDir: join(dir, 'b') });
    const back = await createOrchestrator({ dataDir: join(dir, 'b'), logger });
    try {
      const t2 = await token(back);
      expect(await call(back, 'GET', '/api/v1/contracts', t2)).toEqual(contracts);
      const plan = await call(back, 'POST', '/api/v1/apply', t2, {
        spec,
        prune: false,
        dryRun: true,
        passwords: {},
      });
      expect(plan.changes).toEqual([]);
    } finally {
      await back.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
