import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseHostPort } from '../../src/examples/voting-app/fabric-address.js';
import { RedisQueue } from '../../src/examples/voting-app/queue/redis-queue.js';
import { findRedisServer } from '../../src/examples/voting-app/servers/find-binary.js';
import {
  REDIS_HINT,
  type RunningVotingDb,
  startVotingDb,
} from '../../src/examples/voting-app/services/voting-db.js';
import { ballotQueueConformance } from './ballot-queue.conformance.js';

/**
 * RedisQueue against a real redis-server, started by the voting-db launcher as in a
 * deployment. Without the binary the suite is skipped locally and fails under CI=true.
 */
const HOST = '127.0.8.22';
const PORT = 46390;
const bin = findRedisServer();

if (!bin && process.env.CI !== 'true') {
  describe.skip(`RedisQueue conformance — skipped: no redis-server (${REDIS_HINT})`, () => {
    it('runs the shared BallotQueue suite against a real redis-server', () => {});
  });
} else if (!bin) {
  describe('RedisQueue conformance', () => {
    it('needs redis-server', () => {
      throw new Error(`CI=true but redis-server is not installed: ${REDIS_HINT}`);
    });
  });
} else {
  let db: RunningVotingDb;
  beforeAll(async () => {
    db = await startVotingDb({ host: HOST, port: PORT, kind: 'redis' });
  });
  afterAll(async () => {
    await db?.close();
  });
  ballotQueueConformance({
    name: 'Redis',
    async fresh() {
      // A key prefix per test keeps tests apart on one server.
      const prefix = `t${randomBytes(4).toString('hex')}:`;
      return { connect: () => RedisQueue.connect(parseHostPort(db.address), { prefix }) };
    },
  });
}
