import { type ClientRequest, request } from 'node:http';
import { SseTextParser } from '../../src/node/runtime/sse.js';

/**
 * A Server-Sent Events client for tests: one GET, events parsed as they arrive. It never
 * sends a second request — whatever it receives was pushed.
 */
export interface ReceivedEvent {
  event: string;
  id?: string;
  data: string;
}

export class EventStream {
  readonly events: ReceivedEvent[] = [];
  #waiters: { pred: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];
  #req: ClientRequest | undefined;
  requests = 0;
  status = 0;
  contentType = '';

  static open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    const s = new EventStream();
    return new Promise((resolve, reject) => {
      s.requests += 1;
      s.#req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        s.status = res.statusCode ?? 0;
        s.contentType = String(res.headers['content-type'] ?? '');
        const parser = new SseTextParser();
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          for (const e of parser.push(d)) s.#dispatch(e);
        });
        res.on('error', () => {});
        resolve(s);
      });
      s.#req.on('error', reject);
      s.#req.end();
    });
  }

  #dispatch(e: ReceivedEvent): void {
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  /** The first event (already received or yet to come) that satisfies `pred`. */
  next(pred: (e: ReceivedEvent) => boolean, ms = 20_000): Promise<ReceivedEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(this.events.slice(-5))}`));
      }, ms);
      this.#waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.#req?.destroy();
  }
}
