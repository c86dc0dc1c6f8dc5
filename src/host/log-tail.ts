import { readFile } from 'node:fs/promises';

/** The end of a process's log, so a failed start says why without sending the user digging. */
export async function logTail(file: string, lines = 15): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines);
    return `; last lines of its log:\n${text.map((l) => `  | ${l}`).join('\n')}`;
  } catch {
    return '';
  }
}
