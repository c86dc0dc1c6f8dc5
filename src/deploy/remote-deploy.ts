import type { ApiClient } from '../api-client/client.js';
import type { LoadedApp } from '../app/app-file.js';
import { TrellisError } from '../errors.js';
import type { HostAttach } from '../host/attach.js';
import type { Inventory, InventoryHost } from '../inventory/inventory.js';
import type { Release } from '../release/release.js';
import { installApp } from '../remote/app-install.js';
import type { Connection } from '../remote/connection.js';
import { installRelease } from '../remote/release-install.js';
import { remoteAttach, remoteRemove, remoteStatus } from '../remote/remote-host.js';
import { checkNodeFree, disconnectedLines } from './node-free.js';
import { revokeUnusedTokens } from './unused-tokens.js';
import { waitForNodes } from './wait-nodes.js';

/**
 * `trellis deploy --inventory INV --app APP --hostowner=H --virtualmachine=VM`: the seed's
 * deploy script for real hosts. Everything is checked before anything is written (the VM, its
 * processors, the host owner, who holds the node name, what the VM runs now); then, over the
 * host's connection: the release, an enrolment token minted for H (never H's password), the
 * agent and the service as units; then it waits until the node is connected and the service
 * ready. Idempotent: an unchanged deployment is left running and gets no new token.
 */

export interface Controller {
  /** An admin session on the orchestrator (the CLI's login). */
  admin: ApiClient;
  release(): Promise<Release>;
  connect(h: InventoryHost): Connection;
}

export interface RemoteDeployRequest {
  inventory: Inventory;
  app: LoadedApp;
  hostOwner: string;
  vm: string;
  domain?: string;
}

export interface RemoteDeployResult {
  changed: boolean;
  lines: string[];
  urls: string[];
}

/** A token lives long enough for a slow first start, not for a copy found later to be useful. */
const TOKEN_TTL_SEC = 15 * 60;

export async function deployRemote(req: RemoteDeployRequest, ctl: Controller): Promise<RemoteDeployResult> {
  const t0 = Date.now();
  const { host, domain } = await checkDeploy(req, ctl.admin);
  const who = `${domain}/${req.hostOwner}`;
  const conn = ctl.connect(host);
  const before = await remoteStatus(conn);
  const agentName = `agent-${host.name}`;
  const current = before.units.find((u) => u.name === agentName);
  if (current && (current.labels.hostOwner !== req.hostOwner || current.labels.domain !== domain)) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `virtual machine "${host.name}" already runs host owner "${current.labels.hostOwner}" (domain ${current.labels.domain})`,
      {
        hint: `one host owner per VM: \`trellis purge --inventory ${req.inventory.file} --virtualmachine ${host.name}\` frees it`,
      },
    );
  }
  const installed = await installRelease(conn, ctl.release);
  const appDir = await installApp(conn, req.app, req.hostOwner, installed);
  // The host builds the units from the app file with its own release (as the Ansible role has it do).
  const doc: HostAttach = {
    apiVersion: 'trellis/v1',
    kind: 'HostAttach',
    app: req.app.spec,
    ...(appDir === undefined ? {} : { appDir }),
    hostOwner: req.hostOwner,
    host: {
      name: host.name,
      address: host.address,
      advertise: host.advertise,
      connection: host.connection,
      processors: host.processors,
      vars: host.vars,
    },
  };
  const plan = await remoteAttach(conn, { ...doc, dryRun: true });
  const lines: string[] = [];
  const fresh = !current;
  const minted: string[] = [];
  try {
    if (plan.wouldChange) {
      // Bound to this host owner and this VM's node name, one use, short-lived.
      const t = await ctl.admin.createToken({
        hostOwner: req.hostOwner,
        domain,
        vm: host.name,
        ttlSec: TOKEN_TTL_SEC,
        uses: 1,
      });
      minted.push(t.id);
      const res = await remoteAttach(conn, { ...doc, token: t.token });
      lines.push(`installed ${who} on ${host.name} (${conn.describe}): ${res.apply?.changed.join(', ')}`);
    } else {
      lines.push(`${who} is already installed on ${host.name}`);
    }
    await waitForNodes(ctl.admin, [host.name], (n) => n.status === 'connected', 60_000, 'connected');
  } catch (err) {
    // Nothing half-installed: what this call installed on an empty VM goes again.
    if (fresh) await remoteRemove(conn, [`workload-${host.name}`, agentName]).catch(() => undefined);
    throw err;
  } finally {
    await revokeUnusedTokens(ctl.admin, minted).catch(() => undefined);
  }
  lines.push(
    `agent registered: node ${host.name} connected (owner ${req.hostOwner}, processors ${host.processors.join(',')})`,
    `service ready${plan.serve.length > 0 ? `; serves ${plan.serve.join(' ')}` : ''}`,
    ...plan.urls.map((u) => `open ${u}`),
    `done in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { changed: plan.wouldChange, lines, urls: plan.urls };
}

/** Everything that can be known wrong before a host is touched. */
async function checkDeploy(req: RemoteDeployRequest, admin: ApiClient) {
  const inv = req.inventory;
  const host = inv.host(req.vm);
  if (!host) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `no host "${req.vm}" in ${inv.file} (its vms: ${names(inv.group('vms'))})`,
      { hint: 'add it under the vms group, with trellis_processors' },
    );
  }
  if (!host.groups.includes('vms')) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `host "${req.vm}" of ${inv.file} is not in the vms group`,
      {
        hint: 'workloads are deployed only onto hosts of the vms group',
      },
    );
  }
  const domain = req.domain ?? req.app.spec.domain;
  if (domain !== req.app.spec.domain) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `--domain ${domain} does not match ${req.app.file}, which describes domain ${req.app.spec.domain}`,
    );
  }
  const service = req.app.spec.services[req.hostOwner];
  if (!service) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `${req.app.file} describes no service for host owner "${req.hostOwner}" (it has ${Object.keys(req.app.spec.services).join(', ') || 'none'})`,
      { hint: 'add it under services:, keyed by the host owner (see docs/app-file.md)' },
    );
  }
  if (host.processors.length === 0) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `host "${req.vm}" of ${inv.file} has no trellis_processors`,
      {
        hint: 'list the processors it attaches to, preferred first',
      },
    );
  }
  const processors = new Set((await admin.processors()).map((p) => p.name));
  const unknown = host.processors.filter((p) => !processors.has(p));
  if (unknown.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `trellis_processors of "${req.vm}" names processors the fabric does not declare: ${unknown.join(', ')}`,
      { hint: `declared: ${[...processors].join(', ') || 'none'}` },
    );
  }
  const users = await admin.resourceUsers(domain).catch((err: unknown) => {
    if ((err as { status?: number }).status === 404)
      throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `no domain "${domain}" on the orchestrator`, {
        hint: 'declare it in the fabric file and `trellis apply` it',
      });
    throw err;
  });
  const owner = users.find((u) => u.name === req.hostOwner);
  if (owner?.kind !== 'hostOwner') {
    throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `no host owner "${req.hostOwner}" in domain ${domain}`, {
      hint: `its host owners: ${
        users
          .filter((u) => u.kind === 'hostOwner')
          .map((u) => u.name)
          .join(', ') || 'none'
      }`,
    });
  }
  await checkNodeFree(admin, host.name, req.hostOwner, domain);
  return { host, service, domain };
}

function names(hosts: InventoryHost[]): string {
  return hosts.map((h) => h.name).join(', ') || 'none';
}

export interface RemotePurgeResult {
  lines: string[];
  nodes: string[];
}

/**
 * `trellis purge --inventory INV [--domain D | --virtualmachine VM]`: stop and uninstall the
 * agents and services (of a domain, or on one VM), wait until their nodes are disconnected, and
 * print the `trellis delete node` commands — deleting stays an admin's explicit step.
 */
export async function purgeRemote(
  req: { inventory: Inventory; domain?: string; vm?: string },
  ctl: Controller,
): Promise<RemotePurgeResult> {
  const t0 = Date.now();
  let hosts = req.inventory.group('vms');
  if (req.vm !== undefined) {
    const h = req.inventory.host(req.vm);
    if (!h) throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `no host "${req.vm}" in ${req.inventory.file}`);
    hosts = [h];
  }
  const lines: string[] = [];
  const purged: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      const conn = ctl.connect(h);
      const st = await remoteStatus(conn);
      const mine = st.units.filter(
        (u) =>
          (u.kind === 'agent' || u.kind === 'workload') &&
          (req.domain === undefined || u.labels.domain === req.domain),
      );
      if (mine.length === 0) return;
      // The service first: it must not outlive the agent that is its only way out.
      const order = [...mine].sort((a, b) => (a.kind === 'workload' ? -1 : b.kind === 'workload' ? 1 : 0));
      await remoteRemove(
        conn,
        order.map((u) => u.name),
      );
      const agent = mine.find((u) => u.kind === 'agent');
      lines.push(`stopped and uninstalled ${agent?.labels.domain}/${agent?.labels.hostOwner} on ${h.name}`);
      if (agent) purged.push(h.name);
    }),
  );
  lines.sort();
  const registered = new Set((await ctl.admin.nodes()).map((n) => n.name));
  const nodes = purged.filter((n) => registered.has(n)).sort();
  await waitForNodes(ctl.admin, nodes, (n) => n.status === 'disconnected', 30_000, 'disconnected');
  const scope = req.vm ? `on ${req.vm}` : req.domain ? `in domain ${req.domain}` : 'in the inventory';
  if (purged.length === 0) lines.push(`nothing deployed ${scope}`);
  else lines.push(...disconnectedLines(nodes, t0));
  return { lines, nodes };
}
