import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomFabricPrefix } from '../wire/node-id.js';
import { generatePassword, hashPassword } from './auth/password.js';
import type { Db } from './store/db.js';
import { countSystemAdmins, insertAdminUser } from './store/repos/admin-users.js';
import { insertAudit } from './store/repos/audit.js';
import { getMeta, setMeta } from './store/repos/meta.js';

export interface BootstrapResult {
  fabricPrefix: string;
  /** Set on first start only: where the generated admin password was written. */
  adminPasswordFile?: string;
  adminCreated: boolean;
}

/**
 * First start: choose the fabric's node-ID prefix and create the systemAdmin `admin`, with
 * the password from TRELLIS_ADMIN_PASSWORD or a generated one written once to
 * DIR/admin-password (0600). Later starts change nothing.
 */
export async function bootstrap(
  db: Db,
  opts: { dataDir?: string; adminPassword?: string },
): Promise<BootstrapResult> {
  return db.transaction(async (sql) => {
    let fabricPrefix = await getMeta<string>(sql, 'fabricPrefix');
    if (!fabricPrefix) {
      fabricPrefix = randomFabricPrefix();
      await setMeta(sql, 'fabricPrefix', fabricPrefix);
      await setMeta(sql, 'policyEpoch', 1);
    }
    if ((await countSystemAdmins(sql)) > 0) return { fabricPrefix, adminCreated: false };
    const password = opts.adminPassword || generatePassword();
    await insertAdminUser(
      sql,
      { name: 'admin', role: 'systemAdmin', domain: null },
      await hashPassword(password),
    );
    await insertAudit(sql, {
      actor: 'orchestrator',
      action: 'create',
      kind: 'adminUser',
      name: 'admin',
      domain: null,
      before: null,
      after: { name: 'admin', role: 'systemAdmin', domain: null },
    });
    if (opts.adminPassword || !opts.dataDir) return { fabricPrefix, adminCreated: true };
    const file = join(opts.dataDir, 'admin-password');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return { fabricPrefix, adminCreated: true, adminPasswordFile: file };
  });
}
