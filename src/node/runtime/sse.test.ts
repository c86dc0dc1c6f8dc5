import { describe, expect, it } from 'vitest';
import { SseParser, SseTextParser } from './sse.js';

describe('SseTextParser', () => {
  it('parses events split anywhere across chunks, with \\r\\n line ends, id and retry', () => {
    const p = new SseTextParser();
    const stream =
      'retry: 3000\r\n\r\n: keepalive\r\nevent: node\r\nid: 7\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: x\n\n';
    const got = [];
    for (let i = 0; i < stream.length; i += 3) got.push(...p.push(stream.slice(i, i + 3)));
    expect(got).toEqual([
      { event: 'node', id: '7', data: '{"a":\n1}' },
      { event: 'message', data: 'x' },
    ]);
    expect(p.retryMs).toBe(3000);
  });

  it('throws, naming the limit, when one event grows past it (a server that never ends an event)', () => {
    const p = new SseTextParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) p.push(`data: ${'x'.repeat(100)}\n`);
    }).toThrow('an event exceeds 1000 characters');
  });
});

describe('SseParser', () => {
  it('gives the JSON of each event and skips data that is not JSON', () => {
    const p = new SseParser();
    expect(
      p.push('event: policy\ndata: {"epoch":3}\n\ndata: not json\n\nevent: hello\ndata: {}\n\n'),
    ).toEqual([
      { event: 'policy', data: { epoch: 3 } },
      { event: 'hello', data: {} },
    ]);
  });
});
