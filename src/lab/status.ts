import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Topology } from '../api-client/client.js';
import { renderTable } from '../cli/output.js';
import { labClient } from './orchestrator-client.js';
import { isAlive, isLabSupervisor } from './processes.js';
import { type LabPaths, type LabState, labPaths, readState } from './state.js';

/**
 * `lab status`: what state.json says is running, with each processor's status as the
 * orchestrator sees it (connected / disconnected / unregistered), or "down" when the
 * orchestrator does not answer.
 */

export interface LabStatus {
  phase: LabState['phase'];
  supervisor: { pid: number; alive: boolean; log: string | null };
  orchestrator: { url: string; status: 'up' | 'down' };
  processors: { name: string; address: string; port: number; status: string; pid: number | null }[];
  vms: { name: string; address: string; processors: string[]; hostOwner: string | null }[];
  urls: Record<string, string>;
  logs: string;
}

/** undefined: no lab is running (no state.json). */
export async function labStatus(paths: LabPaths = labPaths()): Promise<LabStatus | undefined> {
  const state = await readState(paths);
  if (!state) return undefined;
  const topology = await fetchTopology(state.orchestrator.url, paths);
  const pidOf = (name: string) => state.children.find((c) => c.name === name)?.pid ?? null;
  return {
    phase: state.phase,
    supervisor: {
      pid: state.supervisor.pid,
      alive: await isLabSupervisor(state.supervisor.pid, paths.dir),
      log: state.supervisor.log,
    },
    orchestrator: { url: state.orchestrator.url, status: topology ? 'up' : 'down' },
    processors: await Promise.all(
      state.processors.map(async (p) => {
        const pid = pidOf(p.name);
        return {
          ...p,
          status: topology
            ? (topology.processors.find((t) => t.name === p.name)?.status ?? 'unknown')
            : 'down',
          pid: pid !== null && (await isAlive(pid)) ? pid : null,
        };
      }),
    ),
    vms: state.vms,
    urls: state.urls,
    logs: paths.logs,
  };
}

/** Logs in with the lab's own admin password, so status works whatever the CLI is logged in to. */
async function fetchTopology(url: string, paths: LabPaths): Promise<Topology | undefined> {
  try {
    const password = (await readFile(join(paths.dir, 'admin-password'), 'utf8')).trim();
    const api = await labClient(paths, url);
    const { token } = await api.login('admin', password);
    return await api.withToken(token).topology();
  } catch {
    return undefined;
  }
}

export function renderStatus(s: LabStatus): string {
  const sup = s.supervisor.alive ? `supervisor pid ${s.supervisor.pid}` : 'supervisor NOT RUNNING';
  const lines = [
    `Lab:           ${s.phase} (${sup})`,
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
      ]),
    );
  }
  const urls = Object.entries(s.urls);
  if (urls.length > 0) {
    lines.push('', 'URLs:');
    for (const [name, url] of urls) lines.push(`  ${name.padEnd(12)} ${url}`);
  }
  lines.push('', `Logs:          ${s.logs}/`);
  return lines.join('\n');
}
