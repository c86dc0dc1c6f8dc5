import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One server-sent event as it came: its `event:` name (default `message`), `data:` text and `id:`. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** One server-sent event of ours: its `event:` name and parsed `data:` JSON. */
export interface SseMessage {
  event: string;
  data: unknown;
}

/**
 * The most text one event may hold before the stream is given up: a server (or anything that
 * took its place) that never ends an event must not grow a node's memory without bound.
 */
export const MAX_SSE_EVENT_CHARS = 8 << 20;

/**
 * Incremental text/event-stream parser, the one every Trellis SSE client uses (node control
 * session, console, tests, benchmarks): feed it chunks as they arrive, get whole events. The
 * WHATWG rules are eventsource-parser's: `\n`, `\r\n` and `\r` line ends, `id:`, `retry:`,
 * comments (`: keepalive`) dropped. An event larger than `maxChars` throws: the caller closes
 * the stream and reconnects.
 */
export class SseTextParser {
  #parser: EventSourceParser;
  #out: SseEvent[] = [];
  #error: Error | undefined;
  /** The server's last `retry:` (ms), if it sent one. */
  retryMs: number | undefined;

  constructor(maxChars = MAX_SSE_EVENT_CHARS) {
    this.#parser = createParser({
      maxBufferSize: maxChars,
      onEvent: (e) =>
        this.#out.push({
          event: e.event ?? 'message',
          data: e.data,
          ...(e.id !== undefined && { id: e.id }),
        }),
      onRetry: (ms) => {
        this.retryMs = ms;
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded')
          this.#error = new Error(`event stream: an event exceeds ${maxChars} characters`);
      },
    });
  }

  push(chunk: string): SseEvent[] {
    if (this.#error) throw this.#error;
    this.#parser.feed(chunk);
    if (this.#error) throw this.#error;
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

/** The same, for the orchestrator's streams, whose data is JSON: data that is not JSON is skipped. */
export class SseParser {
  #text: SseTextParser;

  constructor(maxChars = MAX_SSE_EVENT_CHARS) {
    this.#text = new SseTextParser(maxChars);
  }

  push(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    for (const e of this.#text.push(chunk)) {
      try {
        out.push({ event: e.event, data: JSON.parse(e.data) });
      } catch {
        /* not JSON: not one of ours */
      }
    }
    return out;
  }
}
