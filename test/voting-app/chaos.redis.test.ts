import { describe, it } from 'vitest';
import { findPostgresBinDir, findRedisServer } from '../../examples/voting-app/src/servers/find-binary.js';
import { POSTGRES_HINT } from '../../examples/voting-app/src/services/result-db.js';
import { REDIS_HINT } from '../../examples/voting-app/src/services/voting-db.js';
import { votingAppChaos } from './chaos.js';

/** The chaos test on the Debian stores: redis-server (AOF) for voting-db, Postgres for result-db. */
const missing = [
  ...(findRedisServer() ? [] : [REDIS_HINT]),
  ...(findPostgresBinDir() ? [] : [POSTGRES_HINT]),
];

if (missing.length === 0) {
  votingAppChaos({
    name: 'redis-server and Postgres',
    net: '127.0.10',
    votingDbKind: 'redis',
    resultDbKind: 'postgres',
  });
} else if (process.env.CI !== 'true') {
  describe.skip(`Voting App chaos with Debian stores — skipped: ${missing.join('; ')}`, () => {
    it('runs the chaos scenario on redis-server and Postgres', () => {});
  });
} else {
  describe('Voting App chaos with Debian stores', () => {
    it('needs redis-server and postgresql', () => {
      throw new Error(`CI=true but missing: ${missing.join('; ')}`);
    });
  });
}
