import { readFile, stat } from 'node:fs/promises';
import { TrellisError } from '../errors.js';

/** Passwords come from a file (never the command line, where `ps` would show them). */
export async function readPasswordFile(file: string): Promise<string> {
  try {
    const st = await stat(file);
    if (st.mode & 0o077) process.stderr.write(`warning: ${file} is readable by others; chmod 600 it\n`);
    const pw = (await readFile(file, 'utf8')).trim();
    if (!pw) throw new TrellisError('TRELLIS_ERR_VALIDATION', `${file} is empty`);
    return pw;
  } catch (err) {
    if (err instanceof TrellisError) throw err;
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `cannot read password file ${file}: ${(err as Error).message}`,
    );
  }
}
