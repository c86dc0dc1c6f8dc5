import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import { labControlClient } from '../lab/control.js';
import { labCaFingerprint, labClient } from '../lab/orchestrator-client.js';
import { isLabSupervisor } from '../lab/processes.js';
import { type LabPaths, labPaths, readState } from '../lab/state.js';
import { loadLab } from '../lab/supervise.js';
import type { LabTarget } from './deploy.js';

/**
 * The running lab as a deploy target, for `trellis deploy` and `trellis purge`: its VMs
 * (from the lab file state.json names), the orchestrator (as the lab's admin, whatever the CLI
 * is logged in to) and the supervisor's control socket.
 */
export async function runningLabTarget(paths: LabPaths = labPaths()): Promise<LabTarget> {
  const state = await readState(paths);
  if (!state || !(await isLabSupervisor(state.supervisor.pid, paths.dir))) {
    throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `no lab is running (${paths.dir})`, {
      hint: 'start one with `npm run demo` or `trellis lab up -f examples/voting-app/lab.yaml --detach`',
    });
  }
  if (state.phase === 'stopping') throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', 'the lab is stopping');
  // The service definitions come from the lab file; addresses from the running lab, which
  // keeps them even if the file was edited since `lab up`.
  const { lab } = await loadLab(state.labFile);
  const password = (await readFile(join(paths.dir, 'admin-password'), 'utf8')).trim();
  const api = await labClient(paths, state.orchestrator.url);
  const { token } = await api.login('admin', password);
  return {
    paths,
    lab,
    vmAddress: (vm) => state.vms.find((v) => v.name === vm)?.address,
    orchestratorUrl: state.orchestrator.url,
    caFingerprint: await labCaFingerprint(paths),
    api,
    admin: api.withToken(token),
    control: labControlClient(paths.control),
  };
}
