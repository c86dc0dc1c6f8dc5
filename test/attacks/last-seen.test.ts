import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trellis } from '../support/cli.js';
import { TestFabric } from '../support/fabric.js';

const HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');

/**
 * Regression (issue 11 finding 8): `Last seen` showed the registration time for a live node
 * ("5 min ago"), because a node holding its event stream open sent no heartbeat. A real
 * processor process now tells the orchestrator it is alive while its stream is open, so the
 * time the orchestrator last heard from it moves on, in the API and in `trellis get nodes`.
 */
describe('Last seen of a live node stayed at its registration time (issue 11, finding 8)', () => {
  let f: TestFabric;
  const run = (...args: string[]) => trellis(args, { env: f.env });

  beforeAll(async () => {
    f = await TestFabric.start(HELLO, { listen: '127.0.161.1:0' });
    await f.processor('aws-p1', '127.0.161.11', 7420);
    const login = await trellis(
      ['login', '--orchestrator', f.orch.url, '--username', 'admin', '--password-stdin'],
      { env: f.env, input: 'fabric-admin-pw\n' },
    );
    expect(login.code, login.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  it('moves past the registration time while the processor runs with its event stream open', async () => {
    const node = async () => (await f.admin.nodes()).find((n) => n.name === 'aws-p1')!;
    const first = await node();
    expect(first.status).toBe('connected');
    // Heard from again after registering: its lastSeen is later than registeredAt, and later
    // again a heartbeat after that.
    await f.waitFor(
      async () => Date.parse((await node()).lastSeen) > Date.parse(first.registeredAt),
      'a heartbeat',
    );
    const second = (await node()).lastSeen;
    await f.waitFor(async () => (await node()).lastSeen > second, 'the next heartbeat');
    expect((await node()).status).toBe('connected');
  });

  it('`trellis get nodes` shows LAST SEEN as an age, and -o json the time itself', async () => {
    const table = await run('get', 'nodes');
    expect(table.code, table.stderr).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.startsWith('aws-p1'));
    expect(line).toMatch(/connected\s+\d+s ago\s*$/);
    const json = await run('get', 'nodes', '-o', 'json');
    const [n] = (
      JSON.parse(json.stdout) as { name: string; lastSeen: string; registeredAt: string }[]
    ).filter((x) => x.name === 'aws-p1');
    expect(Date.parse(n!.lastSeen)).toBeGreaterThan(Date.parse(n!.registeredAt));
  });
});
