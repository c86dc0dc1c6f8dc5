import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Server-Sent Events to many browsers. Each subscriber gets the current state on connect
 * (a reconnecting EventSource therefore resyncs by itself), then every change. A subscriber
 * whose socket stops draining is closed rather than buffered without bound: its browser
 * reconnects and gets a fresh snapshot.
 */
export interface SseEvent {
  event: string;
  data: unknown;
  id?: string | number;
}

/** Bytes queued on one subscriber's socket before it is considered stuck. */
const MAX_BUFFERED = 256 * 1024;
const HEARTBEAT_MS = 15_000;
/** What EventSource waits before reconnecting after the stream drops. */
const RETRY_MS = 1_000;

export function formatEvent(e: SseEvent): string {
  const lines = [`event: ${e.event}`];
  if (e.id !== undefined) lines.push(`id: ${e.id}`);
  for (const line of JSON.stringify(e.data).split('\n')) lines.push(`data: ${line}`);
  return `${lines.join('\n')}\n\n`;
}

export class SseHub {
  readonly #subscribers = new Set<ServerResponse>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly onCountChange: (n: number) => void = () => {}) {}

  get size(): number {
    return this.#subscribers.size;
  }

  /** Takes over the response as an event stream, starting with `snapshot`. */
  subscribe(req: IncomingMessage, res: ServerResponse, snapshot: SseEvent): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies that buffer by default (nginx) pass the stream through with this.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    res.write(formatEvent(snapshot));
    this.#subscribers.add(res);
    this.onCountChange(this.size);
    this.#heartbeat ??= setInterval(() => this.#each(': keep-alive\n\n'), HEARTBEAT_MS);
    const drop = () => this.#drop(res);
    req.on('close', drop);
    res.on('error', drop);
  }

  publish(e: SseEvent): void {
    this.#each(formatEvent(e));
  }

  /** Ends every stream (shutdown); browsers reconnect to another instance or later. */
  closeAll(): void {
    for (const res of this.#subscribers) res.end();
    this.#subscribers.clear();
    this.#stopHeartbeat();
  }

  #each(chunk: string): void {
    for (const res of this.#subscribers) {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        this.#drop(res);
        continue;
      }
      res.write(chunk);
    }
  }

  #drop(res: ServerResponse): void {
    if (!this.#subscribers.delete(res)) return;
    this.onCountChange(this.size);
    if (this.size === 0) this.#stopHeartbeat();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
