import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClient, ApiError } from '../api-client/client.js';
import { pinnedFetch } from '../api-client/trust.js';
import { type LoadedApp, loadAppFile } from '../app/app-file.js';
import type { Controller } from '../deploy/remote-deploy.js';
import { TrellisError } from '../errors.js';
import { type Inventory, loadInventory } from '../inventory/inventory.js';
import { connect } from '../remote/connection.js';
import { type LabPaths, type LabState, labOrchestratorData, labPaths, readState } from './state.js';

/**
 * The running lab as a deploy target, for `trellis deploy` and `trellis purge` without
 * --inventory: the lab's inventory and apps, and an admin session on its orchestrator (as the
 * lab's admin, whatever the CLI is logged in to). From there it is the same deploy as onto
 * real hosts.
 */
export interface LabTarget {
  state: LabState;
  inventory: Inventory;
  controller: Controller;
}

export async function runningLab(paths: LabPaths = labPaths()): Promise<LabTarget> {
  const state = await readState(paths);
  if (!state) {
    throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `no lab is running (${paths.dir})`, {
      hint: 'start one with `npm run demo` or `trellis lab up -f examples/voting-app/lab.yaml --detach`, or give --inventory',
    });
  }
  return {
    state,
    inventory: await loadInventory(state.inventory),
    controller: await labController(paths, state),
  };
}

export async function labAdmin(paths: LabPaths, url: string): Promise<ApiClient> {
  const caPem = await readFile(join(labOrchestratorData(paths), 'ca.crt'), 'utf8');
  const password = (await readFile(paths.adminPassword, 'utf8')).trim();
  const api = new ApiClient(url, undefined, pinnedFetch({ caPem }));
  try {
    return api.withToken((await api.login('admin', password)).token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      throw new TrellisError(
        'TRELLIS_ERR_BAD_CREDENTIALS',
        `the lab's orchestrator refused the admin password in ${paths.adminPassword}`,
        {
          hint: `it links to the orchestrator's own file (${join(labOrchestratorData(paths), 'admin-password')}); restore the link`,
        },
      );
    }
    throw err;
  }
}

/** Lab hosts run this machine's Trellis in place (trellis_release: link): nothing is ever copied. */
export const noCopy = () =>
  Promise.reject(
    new TrellisError(
      'TRELLIS_ERR_INTERNAL',
      'a lab host asked for a copy of the release (trellis_release is not link)',
    ),
  );

async function labController(paths: LabPaths, state: LabState): Promise<Controller> {
  return {
    admin: await labAdmin(paths, state.orchestrator.url),
    release: noCopy,
    connect,
  };
}

/** The app of the lab that describes `hostOwner` (in `domain`, when given). */
export async function labAppFor(state: LabState, hostOwner: string, domain?: string): Promise<LoadedApp> {
  const found: LoadedApp[] = [];
  for (const [d, file] of Object.entries(state.apps)) {
    if (domain !== undefined && d !== domain) continue;
    const app = await loadAppFile(file);
    if (app.spec.services[hostOwner]) found.push(app);
  }
  if (found.length === 1) return found[0]!;
  const apps = Object.entries(state.apps)
    .map(([d, f]) => `${d} (${f})`)
    .join(', ');
  if (found.length > 1) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `host owner "${hostOwner}" is in several domains of the lab: ${found.map((a) => a.spec.domain).join(', ')}`,
      { hint: 'say which with --domain' },
    );
  }
  throw new TrellisError(
    'TRELLIS_ERR_NOT_FOUND',
    `no app of the lab describes host owner "${hostOwner}"${domain ? ` in domain ${domain}` : ''}`,
    {
      hint: `the lab's apps: ${apps || 'none'}; deploy another app with --inventory ${state.inventory} --app APP`,
    },
  );
}
