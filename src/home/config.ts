import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { YAML } from '../lazy-yaml.js';

/** Where the CLI keeps its login and the lab its state: $TRELLIS_HOME, default ~/.trellis. */
export function trellisHome(): string {
  return process.env.TRELLIS_HOME || join(homedir(), '.trellis');
}

export interface CliConfig {
  orchestrator?: string;
  token?: string;
  username?: string;
  expiresAt?: string;
  /** Per orchestrator URL, the CA its HTTPS certificate must chain to (pinned at login). */
  pins?: Record<string, CaPin>;
}

export interface CaPin {
  fingerprint: string;
  caPem: string;
}

/** The trust for `url`: its pinned CA, if the CLI pinned one at login. */
export async function pinnedTrust(url: string): Promise<{ caPem?: string }> {
  const pin = (await readConfig()).pins?.[url];
  return pin ? { caPem: pin.caPem } : {};
}

export function configPath(): string {
  return join(trellisHome(), 'config.yaml');
}

export async function readConfig(): Promise<CliConfig> {
  try {
    const parsed: unknown = YAML().parse(await readFile(configPath(), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as CliConfig) : {};
  } catch {
    return {};
  }
}

/** The file holds a bearer token: only its owner may read it. */
export async function writeConfig(c: CliConfig): Promise<string> {
  await mkdir(trellisHome(), { recursive: true, mode: 0o700 });
  const file = configPath();
  await writeFile(file, YAML().stringify(c), { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
