import { readFile } from 'node:fs/promises';

/** A system user to run a store as, for node's spawn `uid`/`gid` options. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/**
 * When we are root, the account named `name` (Debian's packages create `postgres` and
 * `redis`); undefined when we are not root (the store then runs as we do) or, if `required`
 * is false, when there is no such user.
 */
export async function dropPrivilegesTo(name: string, required: boolean): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) {
    if (!required) return undefined;
    throw new Error(
      `running as root, but there is no "${name}" user to run it as (its Debian package creates one)`,
    );
  }
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}
