/** One server-sent event: its `event:` name and parsed `data:` JSON. */
export interface SseMessage {
  event: string;
  data: unknown;
}

/**
 * Incremental text/event-stream parser: feed it chunks as they arrive, get whole events.
 * Comments (`: keepalive`) are dropped; malformed data is skipped rather than fatal.
 */
export class SseParser {
  #buf = '';

  push(chunk: string): SseMessage[] {
    this.#buf += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const end = this.#buf.indexOf('\n\n');
      if (end < 0) break;
      const block = this.#buf.slice(0, end);
      this.#buf = this.#buf.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0) continue;
      try {
        out.push({ event, data: JSON.parse(data.join('\n')) });
      } catch {
        /* not JSON: not one of ours */
      }
    }
    return out;
  }
}
