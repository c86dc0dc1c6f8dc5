import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH, or undefined. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** redis-server: REDIS_SERVER_BIN if set, else on PATH (Debian: /usr/bin/redis-server). */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.REDIS_SERVER_BIN) return executable(env.REDIS_SERVER_BIN) ? env.REDIS_SERVER_BIN : undefined;
  return (
    onPath('redis-server', env.PATH) ??
    (executable('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined)
  );
}

/**
 * The directory holding `postgres` and `initdb`: POSTGRES_BIN_DIR if set, else Debian's
 * /usr/lib/postgresql/<newest version>/bin (Debian keeps them off PATH).
 */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const ok = (dir: string) => executable(join(dir, 'postgres')) && executable(join(dir, 'initdb'));
  if (env.POSTGRES_BIN_DIR) return ok(env.POSTGRES_BIN_DIR) ? env.POSTGRES_BIN_DIR : undefined;
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v));
  } catch {
    // No Debian postgresql packages.
  }
  for (const v of versions.sort((a, b) => Number(b) - Number(a))) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (ok(dir)) return dir;
  }
  const initdb = onPath('initdb', env.PATH);
  return initdb && ok(join(initdb, '..')) ? join(initdb, '..') : undefined;
}

/**
 * Which store to run: the real one (`real`) when asked for or, on `auto`, when its binary was
 * found; else embedded PGlite. Asking for the real one without its binary is an error that
 * says what to install.
 */
export function chooseStore<K extends string>(
  wanted: K | 'pglite' | 'auto' | undefined,
  real: K,
  binary: string | undefined,
  missing: string,
): K | 'pglite' {
  const w = wanted ?? 'auto';
  if (w === real && !binary) throw new Error(missing);
  return w === 'auto' ? (binary ? real : 'pglite') : w;
}
