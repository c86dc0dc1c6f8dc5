import pg from 'pg';
import type { HostPort } from '../fabric-address.js';

/**
 * One Postgres-wire connection — to a real Postgres or to PGlite behind pglite-socket — that
 * callers may share: queries are queued and sent one at a time (pg 9 will refuse a query
 * while another runs, and one connection runs them one at a time anyway).
 *
 * User, database and password come from the standard PG* variables when set (a real Postgres
 * may want them); PGlite accepts anything.
 */
export class PgConnection {
  #tail: Promise<unknown> = Promise.resolve();
  #closing = false;

  private constructor(private readonly client: pg.Client) {}

  /**
   * Connects; `broken` is called if the connection dies later. (An idle pg client that loses
   * its socket emits 'error', which would otherwise crash the process.)
   */
  static async connect(
    at: HostPort,
    broken: (err: Error) => void = () => {},
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<PgConnection> {
    const client = new pg.Client({
      host: at.host,
      port: at.port,
      user: env.PGUSER ?? 'postgres',
      database: env.PGDATABASE ?? 'postgres',
      password: env.PGPASSWORD,
      connectionTimeoutMillis: 3_000,
      // A connection that stops answering (a peer gone without a FIN) fails the query instead
      // of hanging it; the caller then reconnects.
      query_timeout: 10_000,
      keepAlive: true,
    });
    const conn = new PgConnection(client);
    client.on('error', (err) => {
      if (!conn.#closing) broken(err);
    });
    client.on('end', () => {
      if (!conn.#closing) broken(new Error(`connection to ${at.host}:${at.port} closed`));
    });
    try {
      await client.connect();
    } catch (err) {
      conn.#closing = true;
      await client.end().catch(() => {});
      throw new Error(`postgres wire at ${at.host}:${at.port}: ${(err as Error).message}`);
    }
    return conn;
  }

  query<R extends object = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }> {
    const run = this.#tail.then(
      () => this.client.query(text, params) as unknown as Promise<{ rows: R[]; rowCount: number | null }>,
    );
    this.#tail = run.catch(() => {});
    return run;
  }

  async end(): Promise<void> {
    this.#closing = true;
    await this.client.end().catch(() => {});
  }
}

/** Shorthand for `PgConnection.connect`. */
export const connectPg = PgConnection.connect;
