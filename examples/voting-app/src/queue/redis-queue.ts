import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Ballot, CastBallotSchema } from '../ballot.js';
import { isOption, type VoteOption } from '../config.js';
import type { HostPort } from '../fabric-address.js';
import { importOptional } from '../optional-package.js';
import type { CastResult, ClaimedBallot, VotingStore } from './ballot-queue.js';

/**
 * The ballot queue on Redis, as a reliable queue: new items are LPUSHed onto `pending`; a
 * claim moves them (LMOVE, or BLMOVE when it has to wait) onto `processing` and stamps the
 * claim in the `claims` hash; an ack LREMs the item. Items are JSON with a random id, so two
 * equal ballots are still two items and an ack removes exactly one.
 *
 * Multi-step operations are Lua scripts, which Redis runs atomically. Claim times come from
 * the server's clock (TIME), so workers with skewed clocks agree on what is stale.
 */

const SCRIPT_TIME = `local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

// KEYS: pending, processing, claims   ARGV: max, workerId
const CLAIM = `${SCRIPT_TIME}
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not item then break end
  redis.call('HSET', KEYS[3], item, ARGV[2] .. ' ' .. now)
  out[#out + 1] = item
end
return out`;

// After a BLMOVE, which cannot run inside a script: stamp the claim if requeueStale has not
// already put the item back. KEYS: processing, claims   ARGV: item, workerId
const STAMP = `${SCRIPT_TIME}
if redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. now) end
return 1`;

// KEYS: processing, claims   ARGV: item
const ACK = `redis.call('LREM', KEYS[1], 1, ARGV[1]); redis.call('HDEL', KEYS[2], ARGV[1]); return 1`;

// An item without a claim stamp was moved by a BLMOVE whose claimer has not stamped it yet (or
// died in between): it gets a stamp now and becomes stale like any other claim.
// KEYS: pending, processing, claims   ARGV: olderThanMs
const REQUEUE = `${SCRIPT_TIME}
local n = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local c = redis.call('HGET', KEYS[3], item)
  if not c then
    redis.call('HSET', KEYS[3], item, '? ' .. now)
  elseif now - tonumber(string.match(c, '(%d+)$')) > tonumber(ARGV[1]) then
    redis.call('LREM', KEYS[2], 1, item)
    redis.call('HDEL', KEYS[3], item)
    redis.call('RPUSH', KEYS[1], item)
    n = n + 1
  end
end
return n`;

// The voter's seq, their choice and the queued ballot change together. KEYS: pending, seqs,
// choices   ARGV: voterId, vote, ts, onePersonOneVote (1|0), itemId
const CAST = `local prev = redis.call('HGET', KEYS[3], ARGV[1])
if ARGV[4] == '1' and prev then return {0, prev} end
local seq = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local ballot = '{"voterId":' .. cjson.encode(ARGV[1]) .. ',"vote":' .. cjson.encode(ARGV[2]) ..
  ',"seq":' .. seq .. ',"ts":' .. cjson.encode(ARGV[3]) .. '}'
redis.call('LPUSH', KEYS[1], '{"id":' .. cjson.encode(ARGV[5]) .. ',"ballot":' .. ballot .. '}')
return {1, seq}`;

/**
 * The scripts, sent once per connection and then called by their SHA1 (EVALSHA): ioredis'
 * defineCommand, which also reloads a script the server does not know (NOSCRIPT).
 */
const SCRIPTS = {
  votingClaim: { lua: CLAIM, numberOfKeys: 3 },
  votingStamp: { lua: STAMP, numberOfKeys: 2 },
  votingAck: { lua: ACK, numberOfKeys: 2 },
  votingRequeue: { lua: REQUEUE, numberOfKeys: 3 },
  votingCast: { lua: CAST, numberOfKeys: 3 },
} as const;
type Scripts = Record<keyof typeof SCRIPTS, (...args: (string | number)[]) => Promise<unknown>>;

function withScripts(redis: Redis): Redis & Scripts {
  for (const [name, def] of Object.entries(SCRIPTS)) redis.defineCommand(name, def);
  return redis as Redis & Scripts;
}

export interface RedisQueueOptions {
  /** Key prefix, so several queues (tests) can share one server. */
  prefix?: string;
  /** Per-command timeout: a connection that stops answering is treated as broken. */
  commandTimeoutMs?: number;
}

const BASE_OPTIONS = {
  lazyConnect: true,
  // Fail fast instead of queueing commands while disconnected: the caller's Reconnector owns
  // reconnecting, with backoff and jitter, and a worker must know an ack did not happen.
  enableOfflineQueue: false,
  // Commands issued in the same tick (concurrent casts, a batch of acks) go out in one write:
  // through the fabric every write is a message relayed by two agents and a processor or two.
  enableAutoPipelining: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  connectTimeout: 3_000,
} as const;

export class RedisQueue implements VotingStore {
  readonly #redis: Redis & Scripts;
  #blocking: Redis | undefined;
  readonly #keys: { pending: string; processing: string; claims: string; seqs: string; choices: string };

  #onBroken: (err: Error) => void;

  private constructor(redis: Redis & Scripts, prefix: string, broken: (err: Error) => void) {
    this.#redis = redis;
    this.#onBroken = broken;
    this.#keys = {
      pending: `${prefix}ballots:pending`,
      processing: `${prefix}ballots:processing`,
      claims: `${prefix}ballots:claims`,
      seqs: `${prefix}voters:seq`,
      choices: `${prefix}voters:choice`,
    };
  }

  /** Connects; `broken` is called once if the connection dies afterwards. */
  static async connect(
    at: HostPort,
    o: RedisQueueOptions = {},
    broken: (err: Error) => void = () => {},
  ): Promise<RedisQueue> {
    const { Redis } = await importOptional(() => import('ioredis'), 'ioredis', 'the Redis ballot queue');
    const redis = withScripts(
      new Redis({
        ...BASE_OPTIONS,
        host: at.host,
        port: at.port,
        commandTimeout: o.commandTimeoutMs ?? 5_000,
      }),
    );
    watch(redis, broken);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`redis at ${at.host}:${at.port}: ${(err as Error).message}`);
    }
    return new RedisQueue(redis, o.prefix ?? 'voting:', broken);
  }

  async push(ballot: Ballot): Promise<void> {
    await this.#redis.lpush(this.#keys.pending, item(ballot));
  }

  async cast(
    voterId: string,
    vote: VoteOption,
    opts: { onePersonOneVote?: boolean } = {},
  ): Promise<CastResult> {
    const ts = new Date().toISOString();
    // Checked before it is stored: the script only adds the seq.
    CastBallotSchema.parse({ voterId, vote, ts });
    const k = this.#keys;
    const r = (await this.#redis.votingCast(
      k.pending,
      k.seqs,
      k.choices,
      voterId,
      vote,
      ts,
      opts.onePersonOneVote ? '1' : '0',
      newId(),
    )) as [number, number | string];
    if (r[0] === 0) {
      const previous = r[1];
      return { ok: false, reason: 'already-voted', previous: isOption(previous) ? previous : undefined };
    }
    return { ok: true, ballot: { voterId, vote, seq: Number(r[1]), ts } };
  }

  async choiceOf(voterId: string): Promise<VoteOption | undefined> {
    const v = await this.#redis.hget(this.#keys.choices, voterId);
    return isOption(v) ? v : undefined;
  }

  async claim(workerId: string, max: number, waitMs = 0): Promise<ClaimedBallot[]> {
    const k = this.#keys;
    const items = (await this.#redis.votingClaim(
      k.pending,
      k.processing,
      k.claims,
      max,
      workerId,
    )) as string[];
    if (items.length === 0 && waitMs > 0) {
      const first = await this.#waitForOne(waitMs);
      if (first !== null) {
        await this.#redis.votingStamp(k.processing, k.claims, first, workerId);
        items.push(first);
        if (max > 1) {
          items.push(
            ...((await this.#redis.votingClaim(
              k.pending,
              k.processing,
              k.claims,
              max - 1,
              workerId,
            )) as string[]),
          );
        }
      }
    }
    return items.map((raw) => ({ body: unwrap(raw), receipt: raw }));
  }

  /**
   * BLMOVE blocks its connection, so it gets a connection of its own: acks and pushes on the
   * main one must not wait behind it. A guard timer catches a connection that went silent.
   */
  async #waitForOne(waitMs: number): Promise<string | null> {
    if (!this.#blocking) {
      const b = this.#redis.duplicate({ commandTimeout: undefined, enableAutoPipelining: false });
      watch(b, (err) => this.#onBroken(err));
      await b.connect();
      this.#blocking = b;
    }
    const blocking = this.#blocking;
    let guard: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        blocking.blmove(this.#keys.pending, this.#keys.processing, 'RIGHT', 'LEFT', waitMs / 1000),
        new Promise<never>((_, reject) => {
          guard = setTimeout(() => {
            blocking.disconnect();
            reject(new Error(`redis: BLMOVE did not return within ${waitMs + 5_000} ms`));
          }, waitMs + 5_000);
        }),
      ]);
    } finally {
      clearTimeout(guard);
    }
  }

  async ack(receipt: string): Promise<void> {
    await this.#redis.votingAck(this.#keys.processing, this.#keys.claims, receipt);
  }

  async requeueStale(olderThanMs: number): Promise<number> {
    const k = this.#keys;
    return Number(await this.#redis.votingRequeue(k.pending, k.processing, k.claims, olderThanMs));
  }

  async size(): Promise<number> {
    const [a, b] = await Promise.all([
      this.#redis.llen(this.#keys.pending),
      this.#redis.llen(this.#keys.processing),
    ]);
    return a + b;
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    this.#onBroken = () => {};
    this.#blocking?.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/**
 * Item ids: a random prefix per process and a counter — unique without asking the kernel for
 * random bytes on every ballot (randomBytes(8) cost ~40 µs a call under load).
 */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
function newId(): string {
  return `${ID_PREFIX}${(idCounter++).toString(16).padStart(8, '0')}`;
}

function item(ballot: Ballot): string {
  return JSON.stringify({ id: newId(), ballot });
}

/** The ballot inside a stored item; anything unreadable is passed on as is, to be refused. */
function unwrap(raw: string): unknown {
  try {
    const v = JSON.parse(raw) as { ballot?: unknown };
    return v && typeof v === 'object' && 'ballot' in v ? v.ballot : v;
  } catch {
    return raw;
  }
}

/** Reports the first error or close of a connection; ioredis never reconnects by itself here. */
function watch(redis: Redis, broken: (err: Error) => void): void {
  let reported = false;
  const report = (err: Error) => {
    if (reported) return;
    reported = true;
    broken(err);
  };
  redis.on('error', (err: Error) => report(err));
  redis.on('end', () => report(new Error('redis connection closed')));
}
