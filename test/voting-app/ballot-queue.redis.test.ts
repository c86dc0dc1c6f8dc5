import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../../examples/voting-app/src/fabric-address.js';
import { RedisQueue } from '../../examples/voting-app/src/queue/redis-queue.js';
import { findRedisServer } from '../../examples/voting-app/src/servers/find-binary.js';
import {
  REDIS_HINT,
  type RunningVotingDb,
  startVotingDb,
} from '../../examples/voting-app/src/services/voting-db.js';
import { ballotQueueConformance } from './ballot-queue.conformance.js';
import { ballotsSurviveARestart } from './voting-db-durability.js';

/**
 * RedisQueue against a real redis-server, started by the voting-db launcher as in a
 * deployment. Without the binary the suite is skipped locally and fails under CI=true.
 */
const HOST = '127.0.8.22';
const PORT = 46390;
const DURABLE_PORT = 46392;
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

  describe('voting-db on redis-server with VOTING_DB_DATA_DIR', () => {
    it('a ballot queued before redis-server is killed (SIGKILL) is claimable after a restart on the same dir', async () => {
      // Directly under /tmp: started as root, redis-server runs as `redis`, which must reach it.
      const dataDir = await mkdtemp(join(tmpdir(), 'voting-db-aof-'));
      let died: Promise<string> = new Promise(() => {});
      try {
        await ballotsSurviveARestart({
          start: () =>
            new Promise((resolve, reject) => {
              let fatal!: (why: string) => void;
              died = new Promise((r) => {
                fatal = r;
              });
              startVotingDb({ host: HOST, port: DURABLE_PORT, kind: 'redis', dataDir, onFatal: fatal }).then(
                resolve,
                reject,
              );
            }),
          async stop(db) {
            // A crash, not a shutdown: nothing gets a chance to flush what was not yet on disk.
            const admin = new Redis({ host: HOST, port: DURABLE_PORT, lazyConnect: true });
            await admin.connect();
            const info = await admin.info('server');
            admin.disconnect();
            const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
            process.kill(pid, 'SIGKILL');
            expect(await died).toBe('redis-server killed by SIGKILL');
            await db.close();
          },
          connect: (db) => RedisQueue.connect(parseHostPort(db.address)),
        });
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  });
}
