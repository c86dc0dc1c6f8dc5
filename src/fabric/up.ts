import { join } from 'node:path';
import { ApiClient } from '../api-client/client.js';
import { pinnedFetch } from '../api-client/trust.js';
import type { LoadedFabric } from '../apply/index.js';
import { addSecrets, readSecrets } from '../apply/secrets.js';
import type { Controller } from '../deploy/remote-deploy.js';
import { revokeUnusedTokens } from '../deploy/unused-tokens.js';
import { waitForNodes } from '../deploy/wait-nodes.js';
import { TrellisError } from '../errors.js';
import { hostLayout } from '../host/layout.js';
import { unitHash } from '../host/unit.js';
import { orchestratorUnit, orchestratorUrlOf, processorUnit } from '../host/units.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import type { Connection } from '../remote/connection.js';
import { lastLine } from '../remote/connection.js';
import { installRelease } from '../remote/release-install.js';
import { remoteApply, remoteStatus } from '../remote/remote-host.js';
import { caFingerprint } from '../wire/fingerprint.js';

/**
 * `trellis fabric up --inventory INV -f fabric.yaml`: the orchestrator on the `orchestrator`
 * host (HTTPS, its CA read over SSH — an authenticated channel — so the pin is never taken
 * on trust from the network), the fabric file applied, a processor on every host of the
 * `processors` group (each enrolled with its own one-use token). Idempotent.
 */

export interface FabricUpResult {
  url: string;
  caPem: string;
  fingerprint: string;
  /** Where the admin password is: `HOST:PATH` (0600 on the orchestrator host). */
  adminPasswordAt: string;
  /** A fresh admin session, for the CLI to keep. */
  session: { token: string; expiresAt: string };
  lines: string[];
}

export interface FabricDeps extends Omit<Controller, 'admin'> {
  /** The secrets file `apply` writes generated passwords to. */
  secretsFile: string;
  out(line: string): void;
}

export function orchestratorHost(inv: Inventory): InventoryHost {
  const hosts = inv.group('orchestrator');
  if (hosts.length !== 1) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `${inv.file}: the orchestrator group must hold exactly one host (it has ${hosts.length})`,
    );
  }
  return hosts[0]!;
}

export async function fabricUp(
  inv: Inventory,
  fabric: LoadedFabric,
  deps: FabricDeps,
): Promise<FabricUpResult> {
  const t0 = Date.now();
  const oh = orchestratorHost(inv);
  const processors = inv.group('processors');
  const declared = new Set((fabric.spec.processors ?? []).map((p) => p.name));
  const undeclared = processors.filter((p) => fabric.spec.processors !== undefined && !declared.has(p.name));
  if (undeclared.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `processors in ${inv.file} that ${fabric.file} does not declare: ${undeclared.map((p) => p.name).join(', ')}`,
    );
  }
  const switchOwner = pickSwitchOwner(inv, fabric);
  const release = once(deps.release);
  const lines: string[] = [];

  // 1. The orchestrator.
  const oconn = deps.connect(oh);
  const orel = await installRelease(oconn, release);
  const ounit = orchestratorUnit(oh, orel);
  const o = await remoteApply(oconn, {
    apiVersion: 'trellis/v1',
    kind: 'HostApply',
    units: [ounit],
    files: [],
  });
  const dataDir = hostLayout(oh.root).state('orchestrator');
  const caPem = await readRemote(oconn, join(dataDir, 'ca.crt'));
  const password = (await readRemote(oconn, join(dataDir, 'admin-password'))).trim();
  const url = orchestratorUrlOf(oh);
  const fingerprint = caFingerprint(caPem);
  deps.out(`orchestrator on ${oh.name}: ${url} (${o.changed.length > 0 ? 'started' : 'already running'})`);

  // 2. An admin session over the pinned CA, and the fabric file.
  const anon = new ApiClient(url, undefined, pinnedFetch({ caPem }));
  const login = await anon.login('admin', password);
  const admin = anon.withToken(login.token);
  const applied = await admin.apply(fabric.spec, {
    prune: false,
    dryRun: false,
    passwords: await readSecrets(deps.secretsFile),
  });
  const generated = Object.keys(applied.generatedPasswords);
  if (generated.length > 0) await addSecrets(deps.secretsFile, applied.generatedPasswords);
  deps.out(
    `applied ${fabric.file}: ${applied.changes.length} change(s)${generated.length > 0 ? `; passwords of ${generated.join(', ')} in ${deps.secretsFile}` : ''}`,
  );

  // 3. The processors, all at once (each is independent).
  const nodes = new Map((await admin.nodes()).map((n) => [n.name, n]));
  const minted: string[] = [];
  await Promise.all(
    processors.map(async (ph) => {
      const conn = deps.connect(ph);
      const rel = await installRelease(conn, release);
      const unit = processorUnit(ph, rel);
      const running = (await remoteStatus(conn)).units.find((u) => u.name === unit.name);
      const same = running?.hash === unitHash(unit) && running.pid !== null;
      const files = [];
      if (!same || nodes.get(ph.name)?.status !== 'connected') {
        const t = await admin.createToken({
          switchOwner: switchOwner.name,
          domain: switchOwner.domain,
          vm: ph.name,
          ttlSec: 15 * 60,
          uses: 1,
        });
        minted.push(t.id);
        files.push({
          path: `secrets/${unit.name}.token`,
          mode: 0o600,
          content: `${t.token}\n`,
          ifAbsent: false,
        });
      }
      const res = await remoteApply(conn, {
        apiVersion: 'trellis/v1',
        kind: 'HostApply',
        units: [unit],
        files,
      });
      deps.out(
        `processor ${ph.name} (${conn.describe}): ${res.changed.length > 0 ? 'started' : 'already running'}`,
      );
    }),
  );
  try {
    await waitForNodes(
      admin,
      processors.map((p) => p.name),
      (n) => n.status === 'connected',
      60_000,
      'connected',
    );
  } finally {
    await revokeUnusedTokens(admin, minted).catch(() => undefined);
  }
  lines.push(
    `fabric up in ${((Date.now() - t0) / 1000).toFixed(1)} s: orchestrator ${oh.name}, processors ${processors.map((p) => p.name).join(', ') || 'none'}`,
    `console:         ${url}/`,
    `ca fingerprint:  ${fingerprint}`,
    `admin password:  ${oh.name}:${join(dataDir, 'admin-password')} (mode 0600)`,
  );
  return {
    url,
    caPem,
    fingerprint,
    adminPasswordAt: `${oh.name}:${join(dataDir, 'admin-password')}`,
    session: { token: login.token, expiresAt: login.expiresAt },
    lines,
  };
}

/** trellis_switch_owner (`domain/name`) from the inventory, else the fabric's only switch owner. */
function pickSwitchOwner(inv: Inventory, fabric: LoadedFabric): { domain: string; name: string } {
  const said =
    inv.group('processors')[0]?.vars.trellis_switch_owner ?? inv.hosts[0]?.vars.trellis_switch_owner;
  if (typeof said === 'string' && said.includes('/')) {
    const [domain, name] = said.split('/') as [string, string];
    return { domain, name };
  }
  const all = fabric.spec.domains.flatMap((d) => d.switchOwners.map((name) => ({ domain: d.name, name })));
  const found = typeof said === 'string' ? all.filter((s) => s.name === said) : all;
  if (found.length === 1) return found[0]!;
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    found.length === 0
      ? `${fabric.file} declares no switch owner${typeof said === 'string' ? ` named "${said}"` : ''} for the processors`
      : `${fabric.file} declares several switch owners (${found.map((s) => `${s.domain}/${s.name}`).join(', ')})`,
    { hint: 'say which with the inventory var trellis_switch_owner: DOMAIN/NAME' },
  );
}

/** The release is built (or read from its cache) at most once, and only if a host needs a copy. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make();
    return p;
  };
}

async function readRemote(conn: Connection, path: string): Promise<string> {
  const res = await conn.exec(['cat', path]);
  if (res.code !== 0)
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${conn.host.name}: cannot read ${path}: ${lastLine(res.stderr)}`,
    );
  return res.stdout;
}
