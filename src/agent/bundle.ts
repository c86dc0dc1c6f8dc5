import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentBundle } from '../model/bundle.js';

/** The agent's bundle and its parts: the wire schema (model/bundle.ts), one source with the orchestrator. */
export type {
  AgentBundle,
  BundleClientEntry as AgentClientEntry,
  BundleServerEntry as AgentServerEntry,
  BundleTarget as AgentTarget,
  BundleTicket as AgentTicket,
} from '../model/bundle.js';

/** The bundle is cached on disk so a restart while the orchestrator is down still serves. */
export async function saveBundle(dir: string, b: AgentBundle): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Written aside, then renamed: a reader (or a restart after a crash mid-write) sees the old
  // bundle or the new one, never half of one. Refreshes come often when nodes come and go.
  const file = join(dir, 'bundle.json');
  await writeFile(`${file}.tmp`, JSON.stringify(b), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export async function loadCachedBundle(dir: string): Promise<AgentBundle | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8')) as AgentBundle;
  } catch {
    return undefined;
  }
}
