import type { Logger } from 'pino';
import { ApiError } from '../../api-client/client.js';
import { type DenialRecord, MAX_DENIAL_REASON } from '../../model/denial.js';
import type { ControlSession } from './control.js';

export type { DenialRecord };

/**
 * Logs each refusal at once and reports them to the orchestrator in batches; while the
 * orchestrator is unreachable they wait (bounded) and the log keeps the record.
 */
export class DenialReporter {
  #queue: (DenialRecord & { at: string })[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(
    private control: ControlSession,
    private node: string,
    private log: Logger,
    /** Sees every report as it is made (the agent's metrics count them). */
    private onReport?: (d: DenialRecord) => void,
  ) {
    this.#timer = setInterval(() => void this.flush(), 500);
    this.#timer.unref();
  }

  report(d: DenialRecord): void {
    this.onReport?.(d);
    this.log.warn({ denial: d }, d.kind === 'deny' ? d.reason : `would-deny (audit mode): ${d.reason}`);
    // A reason may carry what a peer sent (a next hop's trellis-reason, a header it quoted):
    // one the orchestrator refuses for its length would hold up this node's reports for ever.
    const reason =
      d.reason.length > MAX_DENIAL_REASON ? `${d.reason.slice(0, MAX_DENIAL_REASON - 1)}…` : d.reason;
    if (this.#queue.length < 10_000) this.#queue.push({ ...d, reason, at: new Date().toISOString() });
  }

  async flush(): Promise<void> {
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, 1000);
    try {
      await this.control.call((api) =>
        api.request('POST', `/api/v1/nodes/${this.node}/denials`, { denials: batch }),
      );
    } catch (err) {
      this.#queue.unshift(...dropRefused(batch, err, this.log));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * What to retry of a batch the orchestrator did not take. A 403 naming one entry (a workload
 * node may report only its own domain's flows: a ticket of another domain that reached it is
 * such an entry) drops that entry, which is in the log already; retried as it was, it would
 * hold up every later report of the node for ever. Any other answer retries the whole batch.
 */
export function dropRefused<T>(batch: T[], err: unknown, log: Logger): T[] {
  if (!(err instanceof ApiError) || err.status !== 403) return batch;
  const i = Number(/^body\.denials\[(\d+)\]/.exec(err.body.field ?? '')?.[1] ?? Number.NaN);
  if (!Number.isInteger(i) || i >= batch.length) return batch;
  log.warn({ denial: batch[i], refused: err.message }, 'orchestrator refused a denial report; dropped');
  return batch.filter((_, j) => j !== i);
}
