import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import YAML from 'yaml';
import { TrellisError } from '../errors.js';

/**
 * The secrets file (the seed's "SIS" table): `domain/user: password` for resource users.
 * Passwords never live in the fabric file; apply reads given ones from here and adds the ones
 * it generates, so agents and `trellis deploy` can find them later.
 */
export async function readSecrets(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = YAML.parse(text) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', `${file}: must be a map of "domain/user: password"`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(k) || typeof v !== 'string') {
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `${file}: entry "${k}" must read "domain/user: password"`,
      );
    }
    out[k] = v;
  }
  return out;
}

/** Merges entries into the file, readable by its owner only. */
export async function addSecrets(file: string, add: Record<string, string>): Promise<void> {
  if (Object.keys(add).length === 0) return;
  const merged = { ...(await readSecrets(file)), ...add };
  await mkdir(dirname(file), { recursive: true });
  const header = '# Passwords of resource users (domain/user: password). Keep this file private.\n';
  await writeFile(file, header + YAML.stringify(merged), { mode: 0o600 });
  await chmod(file, 0o600);
}
