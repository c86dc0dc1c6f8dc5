import type { HostPort } from '../fabric-address.js';
import type { VotingDbKind, VotingStore } from './ballot-queue.js';
import { detectProtocol } from './detect.js';
import { PgliteQueue } from './pglite-queue.js';
import { RedisQueue } from './redis-queue.js';

/** VOTING_DB_KIND: `redis`, `pglite`, or `auto` (probe the address; the default). */
export type VotingDbKindSetting = VotingDbKind | 'auto';

export function parseVotingDbKind(value: string | undefined): VotingDbKindSetting {
  const v = (value ?? 'auto').trim().toLowerCase();
  if (v === 'redis' || v === 'pglite' || v === 'auto') return v;
  throw new Error(`VOTING_DB_KIND must be redis, pglite or auto (got ${JSON.stringify(value)})`);
}

/** Opens the voting-db client that matches the protocol behind `at`. */
export async function connectVotingStore(
  at: HostPort,
  kind: VotingDbKindSetting,
  broken: (err: Error) => void = () => {},
  o: { redisPrefix?: string } = {},
): Promise<VotingStore> {
  const actual = kind === 'auto' ? await detectProtocol(at) : kind;
  return actual === 'redis'
    ? RedisQueue.connect(at, { prefix: o.redisPrefix }, broken)
    : PgliteQueue.connect(at, broken);
}
