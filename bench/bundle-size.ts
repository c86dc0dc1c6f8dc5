/**
 * Bundle size for the Voting App's six VMs (examples/voting-app/lab.yaml), with the fallback
 * tickets that let an agent fail over with the orchestrator down (docs/addresses.md), and without
 * them (what an orchestrator before them served: the same JSON minus `fallbacks`). Two layouts:
 * the lab's (one processor per VM, so no fallbacks) and every VM attached to a second processor.
 *
 *   npm run build && node dist/bench/bundle-size.js
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFabricText } from '../src/apply/index.js';
import { REPO_ROOT } from '../test/support/cli.js';
import { ADMIN_PASSWORD, publicKeyPem, startTestOrchestrator } from '../test/support/orchestrator.js';
import { pgliteTarget } from '../test/support/stores.js';
import { VOTING_VMS } from '../test/support/voting-vms.js';

/** Found from the checkout's root, so this runs compiled under dist/ too. */
const FABRIC = join(REPO_ROOT, 'examples/voting-app/fabric.yaml');
const votingAppSpec = () => parseFabricText(readFileSync(FABRIC, 'utf8'), FABRIC).spec;

const PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];
/** A second processor per VM: its cloud's other one, or the nearest other cloud's. */
const SECOND: Record<string, string> = { 'aws-p1': 'aws-p2', 'gcp-p1': 'azr-p1', 'azr-p1': 'gcp-p1' };

interface Sizes {
  vm: string;
  before: number;
  after: number;
}

async function measure(twoProcessors: boolean): Promise<Sizes[]> {
  const t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
  try {
    const admin = await t.login('admin', ADMIN_PASSWORD);
    const passwords: Record<string, string> = {};
    const owners = ['infra/fabric-ops', ...VOTING_VMS.map((v) => `voting-app/${v.service}`)];
    for (const o of owners) passwords[o] = `${o.replace('/', '-')}-password`;
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords },
    });
    if (applied.status !== 200) throw new Error(`apply: ${JSON.stringify(applied.body)}`);
    const ops = await t.login('fabric-ops', passwords['infra/fabric-ops']!, 'infra');
    for (const [i, name] of PROCESSORS.entries()) {
      await t.call('POST', '/api/v1/nodes/register', {
        token: ops,
        body: {
          name,
          addresses: [`127.0.1.${i + 1}`],
          endpoint: `127.0.1.${i + 1}:7500`,
          publicKey: publicKeyPem(),
        },
      });
    }
    const tokens = new Map<string, string>();
    for (const v of VOTING_VMS) {
      const token = await t.login(v.service, passwords[`voting-app/${v.service}`]!, 'voting-app');
      tokens.set(v.vm, token);
      const processors = twoProcessors ? [v.processor, SECOND[v.processor]!] : [v.processor];
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token,
        body: {
          name: v.vm,
          addresses: [`127.0.2.${v.n}`],
          endpoint: `127.0.2.${v.n}:7443`,
          publicKey: publicKeyPem(),
          processors,
        },
      });
      if (r.status !== 200) throw new Error(`register ${v.vm}: ${JSON.stringify(r.body)}`);
    }
    const out: Sizes[] = [];
    for (const v of VOTING_VMS) {
      const r = await t.call('GET', `/api/v1/nodes/${v.vm}/bundle`, { token: tokens.get(v.vm)! });
      const after = JSON.stringify(r.body);
      const stripped = {
        ...r.body,
        client: r.body.client.map((c: { targets: object[] }) => ({
          ...c,
          targets: c.targets.map(({ fallbacks: _f, ...rest }: { fallbacks?: unknown }) => rest),
        })),
      };
      out.push({ vm: v.vm, before: JSON.stringify(stripped).length, after: after.length });
    }
    return out;
  } finally {
    await t.close();
  }
}

for (const two of [false, true]) {
  const rows = await measure(two);
  const total = (k: 'before' | 'after') => rows.reduce((s, r) => s + r[k], 0);
  console.log(two ? '\nevery VM on two processors:' : "the lab's layout (one processor per VM):");
  for (const r of rows)
    console.log(`  ${r.vm.padEnd(7)} ${String(r.before).padStart(6)} B → ${String(r.after).padStart(6)} B`);
  console.log(`  total   ${String(total('before')).padStart(6)} B → ${String(total('after')).padStart(6)} B`);
}
