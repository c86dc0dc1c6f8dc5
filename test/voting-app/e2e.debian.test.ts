import { describe, it } from 'vitest';
import { findPostgresBinDir, findRedisServer } from '../../examples/voting-app/src/servers/find-binary.js';
import { POSTGRES_HINT } from '../../examples/voting-app/src/services/result-db.js';
import { REDIS_HINT } from '../../examples/voting-app/src/services/voting-db.js';
import { votingAppEndToEnd } from './e2e-scenario.js';

/** With the Debian packages: a real redis-server for voting-db, a real Postgres for result-db. */
const missing = [
  ...(findRedisServer() ? [] : [REDIS_HINT]),
  ...(findPostgresBinDir() ? [] : [POSTGRES_HINT]),
];

if (missing.length === 0) {
  votingAppEndToEnd({
    name: 'redis-server and Postgres',
    base: 10,
    votingDbKind: 'redis',
    resultDbKind: 'postgres',
  });
} else if (process.env.CI !== 'true') {
  describe.skip(`Voting App end to end with Debian stores — skipped: ${missing.join('; ')}`, () => {
    it('runs the end-to-end scenario on redis-server and Postgres', () => {});
  });
} else {
  describe('Voting App end to end with Debian stores', () => {
    it('needs redis-server and postgresql', () => {
      throw new Error(`CI=true but missing: ${missing.join('; ')}`);
    });
  });
}
