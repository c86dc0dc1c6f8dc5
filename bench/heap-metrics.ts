/**
 * V8's figures from a Trellis process's /metrics (prom-client's default Node.js metrics):
 * what the orchestrator's RSS is made of, read without a heap snapshot. Pure parsing apart
 * from `readHeapMetrics`, which fetches once.
 */
import type { HttpJson } from './support.js';

export interface HeapMetrics {
  /** MB; NaN where the text has no such metric. */
  heapUsed: number;
  heapTotal: number;
  /** Memory V8 accounts for outside its heap (ArrayBuffers: PGlite's WASM memory among them). */
  external: number;
  /** MB used / total by V8 space (new, old, code, large_object, …). */
  spaces: Map<string, { used: number; total: number }>;
}

const MB = 2 ** 20;

export function parseHeapMetrics(text: string): HeapMetrics {
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) / MB : Number.NaN;
  };
  const ofSpace = (kind: 'used' | 'total') =>
    new Map(
      [
        ...text.matchAll(
          new RegExp(
            `^nodejs_heap_space_size_${kind}_bytes\\{[^}]*space="(\\w+)"[^}]*\\} ([0-9.e+]+)$`,
            'gm',
          ),
        ),
      ].map((m) => [m[1]!, Number(m[2]) / MB] as const),
    );
  const used = ofSpace('used');
  return {
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    heapTotal: metric('nodejs_heap_size_total_bytes'),
    external: metric('nodejs_external_memory_bytes'),
    spaces: new Map(
      [...ofSpace('total')].map(([space, total]) => [space, { used: used.get(space) ?? Number.NaN, total }]),
    ),
  };
}

/** One GET /metrics; an overloaded process that does not answer gives NaNs, not a failed run. */
export async function readHeapMetrics(http: HttpJson): Promise<HeapMetrics> {
  return http
    .request<string>('GET', '/metrics', { retries: 0, timeoutMs: 10_000 })
    .then((r) => parseHeapMetrics(typeof r.body === 'string' ? r.body : ''))
    .catch(() => parseHeapMetrics(''));
}
