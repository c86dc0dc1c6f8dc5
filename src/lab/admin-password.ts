import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePassword } from '../orchestrator/auth/password.js';

/**
 * The admin password of the local lab (demo and `lab up` share it): generated once and kept
 * 0600 in `dir/admin-password`, so restarting the lab keeps the same login.
 */
export async function labAdminPassword(dir: string): Promise<string> {
  const file = join(dir, 'admin-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const pw = generatePassword();
    await writeFile(file, `${pw}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return pw;
  }
}
