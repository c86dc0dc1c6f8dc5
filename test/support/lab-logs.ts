import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The end of every unit log of the lab under `home` (each lab host's `log/`), for failure
 * messages: a lab test that fails should say why.
 */
export async function logTails(home: string, lines = 8): Promise<string> {
  const hosts = join(home, 'lab', 'hosts');
  const parts: string[] = [];
  for (const host of await readdir(hosts).catch(() => [] as string[])) {
    const dir = join(hosts, host, 'log');
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const text = await readFile(join(dir, f), 'utf8').catch(() => '');
      parts.push(`\n== ${host}/${f}\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`);
    }
  }
  return parts.join('');
}
