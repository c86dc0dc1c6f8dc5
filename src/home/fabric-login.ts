import { readConfig, writeConfig } from './config.js';

/** What `fabric up` reached: the orchestrator, its CA and a fresh admin session (a FabricUpResult fits). */
export interface FabricLogin {
  url: string;
  caPem: string;
  fingerprint: string;
  session: { token: string; expiresAt: string };
}

/** Leaves the CLI logged in to the orchestrator `fabric up` reached, its CA pinned; returns the config file. */
export async function keepFabricLogin(res: FabricLogin): Promise<string> {
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
