import { BEAT_STREAM_MS } from './beat.js';

/** How a beat stream ended: `ended` is the normal end (after BEAT_STREAM_MS, answered 200). */
export type BeatStreamEnd = 'ended' | 'unauthenticated' | 'unsupported' | 'failed';

const BEAT = new Uint8Array([0x0a]);

/**
 * The node's end of one beat stream (orchestrator/api/beats.ts): a request body the node
 * writes a byte into per beat, so its beats cost the orchestrator no request each. `open`
 * sends the request with the body; the answer comes when the body ends (or at once, refused).
 */
export class BeatStream {
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #open = true;
  readonly #openedAt: number;
  /** Settles once the orchestrator answered (or the request failed): how it ended. */
  readonly done: Promise<BeatStreamEnd>;

  constructor(open: (body: ReadableStream<Uint8Array>) => Promise<Response>, now = Date.now()) {
    this.#openedAt = now;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
    });
    this.done = open(body).then(
      async (res) => {
        this.end();
        await res.body?.cancel().catch(() => undefined);
        return endOf(res.status);
      },
      () => {
        this.end();
        return 'failed' as const;
      },
    );
  }

  /**
   * Writes one beat; false when this stream is no longer open (the caller opens another). A
   * stream BEAT_STREAM_MS old is ended after this beat: each new one is authenticated anew.
   */
  beat(now = Date.now()): boolean {
    if (!this.#open) return false;
    this.#controller?.enqueue(BEAT);
    if (now - this.#openedAt >= BEAT_STREAM_MS) this.end();
    return true;
  }

  end(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#controller?.close();
    } catch {
      /* already closed or errored by the transport */
    }
  }
}

/** What an answer's status says about the beat stream (pure, for the node's fallback). */
export function endOf(status: number): BeatStreamEnd {
  if (status >= 200 && status < 300) return 'ended';
  if (status === 401) return 'unauthenticated';
  // An orchestrator older than beat streams: no such route, or no parser for the body.
  if (status === 404 || status === 405 || status === 415) return 'unsupported';
  return 'failed';
}
