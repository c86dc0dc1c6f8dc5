import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClient } from '../api-client/client.js';
import { loadFabricFile } from '../apply/index.js';
import { addSecrets, readSecrets } from '../apply/secrets.js';
import { trellisHome, writeConfig } from '../cli/config.js';
import { orchestratorLogger } from '../orchestrator/log.js';
import { createOrchestrator } from '../orchestrator/server.js';
import { labAdminPassword } from './admin-password.js';

export interface DemoOptions {
  fabricFile: string;
  listen: { host: string; port: number };
  log: (line: string) => void;
}

/**
 * The local demo: an orchestrator on embedded PGlite with the Voting App's fabric file
 * applied, and the CLI logged in to it. (The data plane joins it when the lab does.)
 */
export async function runDemo(opts: DemoOptions): Promise<{ url: string; close(): Promise<void> }> {
  const dir = join(trellisHome(), 'lab');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const password = await labAdminPassword(dir);
  opts.log('starting the orchestrator (embedded PGlite store)…');
  const orch = await createOrchestrator({
    dataDir: join(dir, 'orchestrator'),
    adminPassword: password,
    logger: orchestratorLogger('warn'),
  });
  const url = await orch.app.listen(opts.listen);
  const api = new ApiClient(url);
  const { token, expiresAt } = await api.login('admin', password);
  await writeConfig({ orchestrator: url, token, username: 'admin', expiresAt });

  const loaded = await loadFabricFile(opts.fabricFile);
  const secrets = join(dir, 'secrets.yaml');
  const res = await api
    .withToken(token)
    .apply(loaded.spec, { prune: false, dryRun: false, passwords: await readSecrets(secrets) });
  await addSecrets(secrets, res.generatedPasswords);
  opts.log(`applied ${opts.fabricFile}: ${res.changes.length} change(s)`);
  return { url, close: () => orch.close() };
}
