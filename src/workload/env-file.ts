import { readFile } from 'node:fs/promises';

/**
 * The agent's env file (`--env-file`): `KEY=VALUE` lines telling the workload where its
 * contracts are (e.g. `HELLO_ADDR=127.0.2.11:40001`). Blank lines and `#` comments are skipped;
 * a leading `export ` and surrounding quotes are tolerated so the file can also be sourced.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    out[m[1]!] = value;
  }
  return out;
}

export async function readEnvFile(path: string): Promise<Record<string, string>> {
  try {
    return parseEnvFile(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/**
 * The variable a contract's local address is published under: `voting-backend` →
 * `VOTING_BACKEND_ADDR`. The agent writes it; a workload reads it (one definition for both).
 */
export function contractEnvName(contract: string): string {
  return `${contract.replace(/-/g, '_').toUpperCase()}_ADDR`;
}
