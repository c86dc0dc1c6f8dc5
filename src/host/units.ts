import { type AppSpec, fill, type ServiceSpec } from '../app/app-file.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { portOf } from '../inventory/vars.js';
import { formatSource } from '../node/dataplane/source.js';
import { NODE_PROCESS_ENV, NODE_PROCESS_FLAGS } from '../node/runtime/node-process.js';
import type { InstalledRelease } from './layout.js';
import { hostLayout } from './layout.js';
import type { Unit } from './unit.js';

/**
 * Pure: the units each kind of host runs, from the inventory's view of the host and the release
 * installed on it. `fabric up` and `deploy` send these to `trellis host apply`; the Ansible role
 * renders the same commands (deploy/ansible/).
 */

export const ORCHESTRATOR_PORT = 7420;
export const PROCESSOR_PORT = 7500;

/** The port of a host's orchestrator or processor: trellis_port, else the default. */
export function daemonPort(h: InventoryHost, fallback: number): number {
  return portOf(h.vars.trellis_port) ?? fallback;
}

/** Where a host's daemons bind: trellis_listen, else the address peers use. */
export function listenAddress(h: InventoryHost): string {
  const v = h.vars.trellis_listen;
  return typeof v === 'string' && v !== '' ? v : h.advertise;
}

/** A probe address for a listen address (a wildcard is probed on loopback). */
function probe(address: string, port: number): string {
  return formatSource(address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address, port);
}

const endpoint = formatSource;

export function orchestratorUrlOf(h: InventoryHost): string {
  return `https://${endpoint(h.advertise, daemonPort(h, ORCHESTRATOR_PORT))}`;
}

export function orchestratorUnit(h: InventoryHost, r: InstalledRelease): Unit {
  const L = hostLayout(h.root);
  const listen = listenAddress(h);
  const port = daemonPort(h, ORCHESTRATOR_PORT);
  return {
    name: 'orchestrator',
    kind: 'orchestrator',
    description: `orchestrator of the fabric (${orchestratorUrlOf(h)})`,
    exec: [
      r.node,
      r.bin,
      'orchestrator',
      '--listen',
      endpoint(listen, port),
      '--advertise',
      [...new Set([h.advertise, ...(h.address !== h.advertise ? [h.address] : [])])].join(','),
      '--data-dir',
      L.state('orchestrator'),
    ],
    env: {},
    envFiles: [],
    cwd: L.state('orchestrator'),
    after: [],
    // A first start creates and migrates the embedded store.
    ready: { tcp: [probe(listen, port)] },
    labels: { role: 'orchestrator' },
  };
}

export function processorUnit(h: InventoryHost, r: InstalledRelease): Unit {
  const L = hostLayout(h.root);
  const name = `processor-${h.name}`;
  const listen = listenAddress(h);
  const port = daemonPort(h, PROCESSOR_PORT);
  return {
    name,
    kind: 'processor',
    description: `processor ${h.name}`,
    exec: [
      r.node,
      ...NODE_PROCESS_FLAGS,
      r.bin,
      'processor',
      '--name',
      h.name,
      '--listen',
      endpoint(listen, port),
      '--advertise',
      endpoint(h.advertise, port),
      '--token-file',
      tokenFile(h, name),
      '--state-dir',
      L.state(name),
      // Metrics stay on the host's loopback (scrape through SSH or a local agent); hosts sharing
      // this machine's loopback (local connection) each use their own address.
      '--admin-listen',
      h.connection === 'local' ? endpoint(listen, 9901) : '127.0.0.1:9901',
    ],
    env: { ...NODE_PROCESS_ENV },
    envFiles: [],
    cwd: L.state(name),
    after: [],
    ready: { tcp: [probe(listen, port)] },
    labels: { role: 'processor', processor: h.name },
  };
}

export function tokenFile(h: InventoryHost, unit: string): string {
  return `${hostLayout(h.root).secrets}/${unit}.token`;
}

/**
 * The address a VM's services bind and its agent's client listeners serve on. Safe by default:
 * on a real host, loopback — a served service is reachable only through its agent, never
 * straight from the network; an exposed one binds the host's address (the app says so). On a
 * local (lab) host, its own loopback address. trellis_workload_address overrides both.
 */
export function workloadAddress(h: InventoryHost, exposed: boolean): string {
  const v = h.vars.trellis_workload_address;
  if (typeof v === 'string' && v !== '') return v;
  if (h.connection === 'local') return h.address;
  return exposed ? listenAddress(h) : '127.0.0.1';
}

export interface VmUnits {
  agent: Unit;
  workload: Unit | null;
  /** `CONTRACT=HOST:PORT` lines the agent serves. */
  serve: string[];
  /** What users open, for an exposed service. */
  urls: string[];
}

export function vmUnits(
  h: InventoryHost,
  r: InstalledRelease,
  app: AppSpec,
  hostOwner: string,
  service: ServiceSpec,
  appDir?: string,
): VmUnits {
  const L = hostLayout(h.root);
  const agentName = `agent-${h.name}`;
  const workloadName = `workload-${h.name}`;
  const exposed = service.expose !== undefined;
  const address = workloadAddress(h, exposed);
  // The agent's client listeners are for this VM's services only: loopback on a real host.
  const clientAddress = workloadAddress(h, false);
  const placeholders = {
    address,
    datadir: L.data(workloadName),
    vm: h.name,
    release: r.bin.replace(/\/bin\/trellis\.js$/, ''),
    app: appDir,
  };
  const serve = Object.entries(service.serve).map(([c, port]) => `${c}=${endpoint(address, port)}`);
  const envPath = `${L.run}/${agentName}.env`;
  const listen = listenAddress(h);
  const agent: Unit = {
    name: agentName,
    kind: 'agent',
    description: `agent of ${app.domain}/${hostOwner} on ${h.name}`,
    exec: [
      r.node,
      ...NODE_PROCESS_FLAGS,
      r.bin,
      'agent',
      '--token-file',
      tokenFile(h, agentName),
      '--hostowner',
      hostOwner,
      '--domain',
      app.domain,
      '--vm',
      h.name,
      '--address',
      h.advertise,
      '--listen',
      endpoint(listen, 7443),
      '--advertise',
      endpoint(h.advertise, 7443),
      '--client-address',
      clientAddress,
      '--processors',
      h.processors.join(','),
      ...serve.flatMap((s) => ['--serve', s]),
      '--state-dir',
      L.state(agentName),
      '--env-path',
      envPath,
    ],
    env: { ...NODE_PROCESS_ENV },
    envFiles: [],
    cwd: L.state(agentName),
    after: [],
    ready: { tcp: [], file: envPath },
    labels: { role: 'agent', hostOwner, domain: app.domain, vm: h.name },
  };
  const argv = service.command ?? (service.module ? [r.node, service.module] : undefined);
  const ports = [...Object.values(service.serve), ...(service.expose ? [service.expose.port] : [])];
  const workload: Unit | null = argv
    ? {
        name: workloadName,
        kind: 'workload',
        description: `${app.domain}/${hostOwner} on ${h.name}`,
        exec: [...argv, ...service.args].map((a) => fill(a, placeholders)),
        env: {
          ...Object.fromEntries(Object.entries(service.env).map(([k, v]) => [k, fill(v, placeholders)])),
          TRELLIS_VM_ADDRESS: address,
          // A service that outlives a grant change can re-read its contracts from here.
          TRELLIS_ENV_FILE: envPath,
        },
        envFiles: [envPath],
        cwd: L.data(workloadName),
        after: [agentName],
        ready: { tcp: [...new Set(ports)].map((p) => probe(address, p)) },
        labels: { role: 'workload', hostOwner, domain: app.domain, vm: h.name },
      }
    : null;
  const urls = service.expose
    ? [
        `http://${endpoint(h.advertise, service.expose.port)}/`,
        ...Object.values(service.expose.paths).map(
          (p) => `http://${endpoint(h.advertise, service.expose!.port)}${p}`,
        ),
      ]
    : [];
  return { agent, workload, serve, urls };
}
