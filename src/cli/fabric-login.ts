import type { FabricUpResult } from '../fabric/up.js';
import { readConfig, writeConfig } from './config.js';

/** Leaves the CLI logged in to the orchestrator `fabric up` reached, its CA pinned; returns the config file. */
export async function keepFabricLogin(res: FabricUpResult): Promise<string> {
  const cfg = await readConfig();
  return writeConfig({
    ...cfg,
    orchestrator: res.url,
    token: res.session.token,
    username: 'admin',
    expiresAt: res.session.expiresAt,
    pins: { ...cfg.pins, [res.url]: { fingerprint: res.fingerprint, caPem: res.caPem } },
  });
}
