import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The end of every log of the lab under `home`, for failure messages: a lab test that fails should say why. */
export async function logTails(home: string, lines = 8): Promise<string> {
  const dir = join(home, 'lab', 'logs');
  const files = await readdir(dir).catch(() => [] as string[]);
  const parts = await Promise.all(
    files.map(async (f) => {
      const tail = (await readFile(join(dir, f), 'utf8')).trimEnd().split('\n').slice(-lines);
      return `\n== ${f}\n${tail.join('\n')}`;
    }),
  );
  return parts.join('');
}
