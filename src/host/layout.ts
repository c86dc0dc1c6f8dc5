import { join } from 'node:path';

/**
 * Where Trellis keeps things on a host, all under its `trellis_root` (default /opt/trellis):
 *
 *   releases/<id>/       a release, unpacked once, never changed (units name it: an upgrade is
 *                        a new id, hence a changed unit, hence a restart)
 *   apps/<id>/           an app package (the one holding the app file) with its dependencies,
 *                        unpacked once like a release; `{app}` in the app file names it
 *   apps/node_modules/trellis  the release the apps see as their `trellis` (a link, rewritten
 *                        by each deploy: an app package brings everything but Trellis itself)
 *   bin/trellis          a wrapper that runs the newest release (what deploy and operators call)
 *   units/<name>.json    the unit descriptions `trellis supervise` runs
 *   secrets/             enrolment tokens (0600; a token is used once, then the node's key logs in)
 *   state/<name>/        node state: key, certificate, bundle cache (0700)
 *   data/<name>/         a workload's {datadir}
 *   log/<name>.log       each unit's stdout and stderr
 *   run/                 supervise.pid, status.json, the agents' env files
 */
export interface HostLayout {
  root: string;
  releases: string;
  release(id: string): string;
  apps: string;
  app(id: string): string;
  wrapper: string;
  units: string;
  unit(name: string): string;
  secrets: string;
  state(name: string): string;
  data(name: string): string;
  logs: string;
  log(name: string): string;
  run: string;
  supervisePid: string;
  status: string;
}

export function hostLayout(root: string): HostLayout {
  return {
    root,
    releases: join(root, 'releases'),
    release: (id) => join(root, 'releases', id),
    apps: join(root, 'apps'),
    app: (id) => join(root, 'apps', id),
    wrapper: join(root, 'bin', 'trellis'),
    units: join(root, 'units'),
    unit: (name) => join(root, 'units', `${name}.json`),
    secrets: join(root, 'secrets'),
    state: (name) => join(root, 'state', name),
    data: (name) => join(root, 'data', name),
    logs: join(root, 'log'),
    log: (name) => join(root, 'log', `${name}.log`),
    run: join(root, 'run'),
    supervisePid: join(root, 'run', 'supervise.pid'),
    status: join(root, 'run', 'status.json'),
  };
}

export interface InstalledRelease {
  id: string;
  /** Absolute path of node on the host (systemd units need one). */
  node: string;
  /** R/releases/<id>/bin/trellis.js */
  bin: string;
  /** R/bin/trellis */
  wrapper: string;
}
