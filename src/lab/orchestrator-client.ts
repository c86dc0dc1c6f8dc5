import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClient } from '../api-client/client.js';
import { pinnedFetch } from '../api-client/trust.js';
import { caFingerprint } from '../wire/fingerprint.js';
import type { LabPaths } from './state.js';

/**
 * The lab's orchestrator serves HTTPS like a real one; lab tooling on the same machine trusts
 * the CA in its data directory (public material, read from disk), while agents pin its
 * fingerprint as they would on a real host.
 */
export function labCaFile(paths: LabPaths): string {
  return join(paths.orchestratorData, 'ca.crt');
}

export async function labCaPem(paths: LabPaths): Promise<string> {
  return readFile(labCaFile(paths), 'utf8');
}

export async function labCaFingerprint(paths: LabPaths): Promise<string> {
  return caFingerprint(await labCaPem(paths));
}

export async function labClient(paths: LabPaths, url: string): Promise<ApiClient> {
  return new ApiClient(url, undefined, pinnedFetch({ caPem: await labCaPem(paths) }));
}
