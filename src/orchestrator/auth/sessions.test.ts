import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Sql } from '../store/db.js';
import { openStore } from '../store/open.js';
import type { Principal } from './principal.js';
import { createSession, deleteSession, deleteSessionsOf, lookupSession } from './sessions.js';

/**
 * Sessions are remembered in memory after a lookup (five requests in an agent's first seconds
 * cost one query); ending one must still stop its token at once, including when a lookup's
 * SELECT was already on its way when the DELETE ran — the race that would let a revoked token
 * work for another 30 s if the row it read were remembered.
 */
const alice: Principal = { type: 'resource', domain: 'voting-app', name: 'voting-svc', kind: 'hostOwner' };
const bob: Principal = { type: 'admin', name: 'bob', role: 'domainAdmin', domain: 'voting-app' };

describe('sessions remembered in memory', () => {
  let db: Db;
  let other: Db;
  beforeAll(async () => {
    db = await openStore({});
    other = await openStore({});
  });
  afterAll(async () => {
    await db?.close();
    await other?.close();
  });

  /** The store, but the first SELECT of a session is answered only when `release` is called. */
  function heldSelects(): { sql: Sql; release: () => void; held: () => number } {
    const waiting: (() => void)[] = [];
    let holding = true;
    const sql: Sql = {
      exec: (s) => db.exec(s),
      query: async (text, params) => {
        const rows = await db.query(text, params);
        if (holding && text.startsWith('SELECT subject')) {
          holding = false;
          await new Promise<void>((r) => waiting.push(r));
        }
        return rows as never;
      },
    };
    const release = () => {
      for (const r of waiting.splice(0)) r();
    };
    return { sql, release, held: () => waiting.length };
  }

  it('answers from memory, and a logout stops the token at once', async () => {
    const { token } = await createSession(db, alice, 60_000);
    expect(await lookupSession(db, token)).toEqual(alice);
    const before = await db.query('SELECT count(*)::int AS n FROM sessions');
    expect(before).toEqual([{ n: 1 }]);
    await deleteSession(db, token);
    expect(await lookupSession(db, token)).toBeNull();
  });

  it('never answers for a token of another store', async () => {
    const { token } = await createSession(db, alice, 60_000);
    expect(await lookupSession(other, token)).toBeNull();
    expect(await lookupSession(db, token)).toEqual(alice);
  });

  it('refuses an expired session it remembers', async () => {
    const { token } = await createSession(db, alice, 50);
    expect(await lookupSession(db, token)).toEqual(alice);
    await new Promise((r) => setTimeout(r, 80));
    expect(await lookupSession(db, token)).toBeNull();
  });

  it('does not remember a row read by a lookup that raced a logout', async () => {
    // Remembered as `db`'s: a lookup through another Sql object (h.sql) goes to the store.
    const { token } = await createSession(db, bob, 60_000);
    const h = heldSelects();
    const racing = lookupSession(h.sql, token);
    await expect.poll(h.held).toBe(1); // its SELECT has read the row
    await deleteSession(db, token);
    h.release();
    expect(await racing).toEqual(bob); // it read the row before the DELETE: that request is served
    expect(await lookupSession(h.sql, token)).toBeNull(); // but the token is dead from now on
    expect(await lookupSession(db, token)).toBeNull();
  });

  it('does not remember a row read by a lookup that raced a revocation in a transaction', async () => {
    const { token } = await createSession(db, alice, 60_000);
    const h = heldSelects();
    const racing = lookupSession(h.sql, token);
    await expect.poll(h.held).toBe(1);
    const n = await db.transaction((tx) =>
      deleteSessionsOf(tx, (p) => p.type === 'resource' && p.name === alice.name),
    );
    expect(n).toBeGreaterThan(0);
    h.release();
    expect(await racing).toEqual(alice);
    expect(await lookupSession(h.sql, token)).toBeNull();
    expect(await lookupSession(db, token)).toBeNull();
  });
});
