import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient, ApiError, codeForStatus } from '../api-client/client.js';
import type { ErrorBody } from '../errors.js';
import { SseParser } from '../node/runtime/sse.js';
import { type Column, print, renderTable } from './output.js';

/** What `--watch` follows: how to read the rows again, and which row an event names. */
export interface WatchSpec<T> {
  columns: Column<T>[];
  /** Every row as it is now (the same call as the first table). */
  rows(): Promise<T[]>;
  /** Which row is which across reads, and what of it counts as a change. */
  key(row: T): string;
  change(row: T): string;
  /** The event kinds the stream is asked for (`GET /events?kinds=`); absent: the default stream. */
  kinds?: readonly string[];
  /**
   * What an event of the stream means to this watch: the rows it names (a node's, read again;
   * denials as the event carries them), `reread` (read every row again: a flow table changed),
   * or no rows for an event this watch does not show. Nothing is polled.
   */
  onEvent(event: string, data: unknown): Promise<T[] | 'reread'>;
}

/** Reconnects after the stream dropped before the watch gives up (a restart, a proxy's idle cut). */
const RECONNECTS = 3;

/**
 * `trellis get … --watch`, as kubectl's: the table, then one line per change, in the same
 * columns, until Ctrl-C / SIGTERM (exit 0) or until the event stream is gone for good (the
 * orchestrator stopped, the session was revoked: its error and exit code).
 */
export async function watch<T>(api: ApiClient, spec: WatchSpec<T>): Promise<void> {
  const first = await spec.rows();
  // The header even over no rows: the lines that follow line up under it.
  print(renderTable(first, spec.columns));
  const seen = new Map(first.map((r) => [spec.key(r), spec.change(r)]));
  // A changed row is laid out with the first table's rows, so its columns line up with them.
  const line = (row: T) =>
    renderTable([...first, row], spec.columns)
      .split('\n')
      .at(-1) ?? '';
  const show = (row: T) => {
    const k = spec.key(row);
    const c = spec.change(row);
    if (seen.get(k) === c) return;
    seen.set(k, c);
    print(line(row));
  };

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        await follow(api, spec, stop.signal, show);
        failures = 0;
      } catch (err) {
        if (stop.signal.aborted) return;
        // Refused (logged out, revoked) or not found: no reconnect will change that.
        if (!(err instanceof ApiError) || err.status !== 0 || ++failures > RECONNECTS) throw err;
      }
      await sleep(500 * 2 ** failures, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** One connection of the stream, from its opening until it closes (or `signal` aborts it). */
async function follow<T>(
  api: ApiClient,
  spec: WatchSpec<T>,
  signal: AbortSignal,
  show: (row: T) => void,
): Promise<void> {
  const path = spec.kinds ? `/api/v1/events?kinds=${spec.kinds.join(',')}` : '/api/v1/events';
  const res = await api.raw(path, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) throw await answerError(res, path);
  const reread = async () => {
    for (const r of await spec.rows()) show(r);
  };
  let failed: unknown;
  try {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let hello = 0;
    for await (const chunk of res.body) {
      for (const m of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
        try {
          // After a reconnect the first `hello` stands for what was missed: read everything again.
          if (m.event === 'hello') {
            if (hello++ === 0) await reread();
            continue;
          }
          const answer = await spec.onEvent(m.event, m.data);
          if (answer === 'reread') await reread();
          else for (const row of answer) show(row);
        } catch (err) {
          // A failed read ends this stream with the read's own error (leaving the loop closes it).
          failed = err;
          throw err;
        }
      }
    }
  } catch (err) {
    if (failed) throw failed;
    if (!signal.aborted) throw new ApiError(0, streamLost(api.baseUrl, err));
  }
}

function streamLost(baseUrl: string, err: unknown): ErrorBody {
  return {
    code: 'TRELLIS_ERR_UNAVAILABLE',
    message: `the event stream of ${baseUrl} broke (${err instanceof Error ? err.message : String(err)})`,
  };
}

/** An error answer of the stream's request, as the client reports any other. */
async function answerError(res: Response, path: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: ErrorBody | undefined;
  try {
    body = (JSON.parse(text) as { error?: ErrorBody }).error;
  } catch {
    /* not JSON: described by its status */
  }
  return new ApiError(
    res.status,
    body ?? { code: codeForStatus(res.status), message: `GET ${path}: HTTP ${res.status}` },
  );
}
