import { fabricStatus } from '../fabric/status.js';
import { loadInventory } from '../inventory/inventory.js';
import { connect } from '../remote/connection.js';
import { renderTable } from '../text-table.js';
import { LAB_ORCHESTRATOR_HOST } from './lab-file.js';
import { labAdmin } from './lab-target.js';
import { type LabPaths, type LabState, labPaths, readState } from './state.js';
import { labCondition, orchestratorRuns } from './up.js';

/**
 * `lab status`: what state.json says the lab is, what each lab host runs (its units, as
 * `fabric status` reads them), and each node's status as the orchestrator sees it (connected /
 * disconnected / unregistered), or "down" when the orchestrator does not answer.
 */

export interface LabStatus {
  phase: LabState['phase'] | 'gone';
  labFile: string;
  inventory: string;
  orchestrator: { url: string; status: 'up' | 'down' };
  processors: { name: string; address: string; port: number; status: string; pid: number | null }[];
  vms: {
    name: string;
    address: string;
    processors: string[];
    /** `domain/owner` of the agent running there, or null. */
    hostOwner: string | null;
    status: string;
  }[];
  /** Every unit of every lab host. */
  units: { host: string; name: string; kind: string; pid: number | null; restarts: number; log: string }[];
  urls: Record<string, string>;
  hosts: string;
}

/** undefined: no lab is running (no state.json). */
export async function labStatus(paths: LabPaths = labPaths()): Promise<LabStatus | undefined> {
  const state = await readState(paths);
  if (!state) return undefined;
  const admin = await labAdmin(paths, state.orchestrator.url).catch(() => undefined);
  const reports = await fabricStatus(await loadInventory(state.inventory), connect, admin).catch(() => []);
  const report = (host: string) => reports.find((r) => r.host === host);
  const nodeStatus = (host: string) => (admin ? (report(host)?.node?.status ?? 'unregistered') : 'down');
  // A finished lab is gone when its orchestrator no longer runs: the report just read says so.
  const gone =
    state.phase === 'starting'
      ? (await labCondition(state)) === 'gone'
      : !orchestratorRuns(report(LAB_ORCHESTRATOR_HOST)?.status);
  return {
    phase: gone ? 'gone' : state.phase,
    labFile: state.labFile,
    inventory: state.inventory,
    orchestrator: { url: state.orchestrator.url, status: admin ? 'up' : 'down' },
    processors: state.processors.map((p) => ({
      ...p,
      status: nodeStatus(p.name),
      pid: report(p.name)?.status?.units.find((u) => u.kind === 'processor')?.pid ?? null,
    })),
    vms: state.vms.map((v) => {
      const agent = report(v.name)?.status?.units.find((u) => u.kind === 'agent');
      return {
        name: v.name,
        address: v.address,
        processors: v.processors,
        hostOwner: agent ? `${agent.labels.domain}/${agent.labels.hostOwner}` : null,
        status: agent ? nodeStatus(v.name) : '-',
      };
    }),
    units: reports.flatMap((r) =>
      (r.status?.units ?? []).map((u) => ({
        host: r.host,
        name: u.name,
        kind: u.kind,
        pid: u.pid,
        restarts: u.restarts,
        log: u.log,
      })),
    ),
    urls: state.urls,
    hosts: paths.hosts,
  };
}

export function renderStatus(s: LabStatus): string {
  const up = s.units.filter((u) => u.pid !== null).length;
  const lines = [
    `Lab:           ${s.phase} (${s.labFile}; ${up} of ${s.units.length} units up)`,
    `Orchestrator:  ${s.orchestrator.url} (${s.orchestrator.status})`,
    '',
    renderTable(s.processors, [
      { header: 'PROCESSOR', value: (p) => p.name },
      { header: 'ADDRESS', value: (p) => `${p.address}:${p.port}` },
      { header: 'STATUS', value: (p) => p.status },
      { header: 'PID', value: (p) => p.pid ?? '-' },
    ]),
  ];
  if (s.vms.length > 0) {
    lines.push(
      '',
      renderTable(s.vms, [
        { header: 'VM', value: (v) => v.name },
        { header: 'ADDRESS', value: (v) => v.address },
        { header: 'PROCESSORS', value: (v) => v.processors.join(',') },
        { header: 'HOST OWNER', value: (v) => v.hostOwner ?? '-' },
        { header: 'STATUS', value: (v) => v.status },
      ]),
    );
  }
  const urls = Object.entries(s.urls);
  if (urls.length > 0) {
    lines.push('', 'URLs:');
    for (const [name, url] of urls) lines.push(`  ${name.padEnd(12)} ${url}`);
  }
  lines.push('', `Inventory:     ${s.inventory}`, `Logs:          ${s.hosts}/*/log/`);
  return lines.join('\n');
}
