/**
 * Helpers for benchmarks that drive a real orchestrator process: spawning it, plain-HTTP
 * JSON calls and event streams over node:http (no fetch/undici, whose per-origin connection
 * pool would queue a thousand held-open streams), and reading a child's RSS and CPU time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { BEAT_STREAM_MS, BEAT_STREAM_TYPE } from '../src/node/runtime/beat.js';
import { SseParser } from '../src/node/runtime/sse.js';

/** bin/trellis.js, from dist/bench/support.js. */
export const TRELLIS_BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));

export interface OrchestratorChild {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last 16 kB the process wrote to stderr, and how it exited (if it has). */
  stderrTail(): string;
  exit(): string | null;
}

/** `trellis orchestrator --listen 127.0.0.1:0 --data-dir DIR`, with the URL read from stderr. */
export async function spawnOrchestrator(opts: {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  logLevel?: string;
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /** Where its stdout (the JSON request log) goes; discarded by default. */
  stdoutFd?: number;
}): Promise<OrchestratorChild> {
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      TRELLIS_BIN,
      'orchestrator',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      opts.dataDir,
      // Plain HTTP on loopback: the benchmark measures the control plane's own work, as before HTTPS.
      '--plain-http',
      '--log-level',
      opts.logLevel ?? 'info',
    ],
    // stdout carries the request log: discarded unless asked for, as a deployment would ship it elsewhere.
    { env: opts.env, stdio: ['ignore', opts.stdoutFd ?? 'ignore', 'pipe'] },
  );
  // Whatever happens to this process (a deadline's process.exit included), the child goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  let stderr = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const limit = opts.startTimeoutMs ?? 30_000;
      const timer = setTimeout(
        () => reject(new Error(`orchestrator did not start in ${limit} ms: ${stderr}`)),
        limit,
      );
      child.stderr!.on('data', (d) => {
        stderr = (stderr + d).slice(-16_384);
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`orchestrator exited with ${code}: ${stderr}`));
      });
      child.once('error', reject);
    });
    return {
      url,
      pid: child.pid!,
      child,
      stop,
      stderrTail: () => stderr,
      exit: () =>
        child.exitCode !== null
          ? `exit code ${child.exitCode}`
          : child.signalCode !== null
            ? `signal ${child.signalCode}`
            : null,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resident set size of a process in MB, from /proc (Linux); NaN elsewhere. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Where a process's resident memory is, in MB, from /proc/PID/smaps (Linux). */
export interface RssRegions {
  /** The largest private anonymous mapping of 64 MB or more: a WASM memory (PGlite's heap). */
  wasm: number;
  /** Anonymous mappings of at most 1 MB: V8 heap pages (256 KB each) and small mallocs. */
  smallAnon: number;
  /** Other anonymous mappings: malloc arenas, compiled code, thread stacks and heaps. */
  otherAnon: number;
  /** File-backed pages: the node binary and libraries. */
  files: number;
}

export function rssRegions(pid: number): RssRegions | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const maps: { sizeMb: number; anon: boolean; rssMb: number }[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[3]!;
      maps.push({
        sizeMb: (Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16)) / 2 ** 20,
        anon: name === '' || name === '[heap]',
        rssMb: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    const last = maps[maps.length - 1];
    if (rss && last) last.rssMb = Number(rss[1]) / 1024;
  }
  const big = maps.filter((m) => m.anon && m.sizeMb >= 64).sort((a, b) => b.rssMb - a.rssMb)[0];
  const out: RssRegions = { wasm: big?.rssMb ?? 0, smallAnon: 0, otherAnon: 0, files: 0 };
  for (const m of maps) {
    if (m === big) continue;
    if (!m.anon) out.files += m.rssMb;
    else if (m.sizeMb <= 1) out.smallAnon += m.rssMb;
    else out.otherAnon += m.rssMb;
  }
  return out;
}

/** User + system CPU seconds a process has used, from /proc/PID/stat (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Connection errors retried (default 6). */
  retries?: number;
  /** No answer within this long fails the request (default: the client's). */
  timeoutMs?: number;
}

const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED']);

/**
 * The kernel's count of connections dropped because a listen queue was full (TcpExt
 * ListenDrops, Linux, system-wide); NaN elsewhere. A dropped SYN is retried by the client's
 * TCP after 1 s, 3 s, 7 s, 15 s…, so a burst of new connections shows up as a latency tail.
 */
export function listenDrops(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const names = lines.find((l) => l.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
    const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('ListenDrops');
    return i > 0 ? Number(values[i]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface HttpAnswer<T> {
  status: number;
  body: T;
  bytes: number;
}

/** A JSON-over-HTTP caller with its own keep-alive pool (no limit on sockets). */
export class HttpJson {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  readonly #base: URL;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.#base = new URL(baseUrl);
  }

  /** Requests sent again after a connection error (reset, refused, hang-up) with no answer. */
  retries = 0;

  /**
   * One JSON call. A connection error with no answer at all (a reset on a socket the server
   * closed, or one it never accepted because its listen queue was full) is retried up to
   * `retries` times with backoff, as an agent's control session does; a timeout is not.
   */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer<T>> {
    const limit = opts.retries ?? 6;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#once<T>(method, path, opts);
      } catch (err) {
        if (!(err as { retryable?: boolean }).retryable || attempt >= limit) throw err;
        this.retries++;
        await sleep(Math.min(2_000, 100 * 2 ** attempt));
      }
    }
  }

  #once<T>(method: string, path: string, opts: RequestOptions): Promise<HttpAnswer<T>> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let answered = false;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            const text = buf.toString('utf8');
            let body: unknown = null;
            try {
              body = text === '' ? null : JSON.parse(text);
            } catch {
              body = text;
            }
            resolve({ status: res.statusCode ?? 0, body: body as T, bytes: buf.length });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const how = req.reusedSocket ? 'reused socket' : 'new socket';
        const err = Object.assign(new Error(`${method} ${path}: ${e.message} (${how})`), {
          code: e.code,
          retryable: !answered && RETRYABLE.has(e.code ?? ''),
        });
        reject(err);
      });
      req.end(payload);
    });
  }

  /** Like request, but anything other than a 2xx is an error naming the API's error code. */
  async ok<T>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer<T>> {
    const res = await this.request<T>(method, path, opts);
    if (res.status < 200 || res.status > 299) {
      const e = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new Error(`${method} ${path}: HTTP ${res.status} ${e?.code ?? ''} ${e?.message ?? ''}`.trim());
    }
    return res;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface EventStream {
  /** Resolves on the first event (the orchestrator's `hello`), rejects if the stream fails first. */
  ready: Promise<void>;
  /** Set once the stream has ended or failed. */
  closed: boolean;
  close(): void;
}

/** A held beat stream (see holdBeatStream). */
export interface BeatStreamHold {
  close(): void;
}

/**
 * A node's beat stream as src/node/runtime/control.ts holds it (orchestrator/api/beats.ts):
 * one POST whose chunked body gets a byte every `everyMs`, ended after BEAT_STREAM_MS and
 * opened again. `on.answer` gets each stream's status (200 when it ended as it should).
 */
export function holdBeatStream(
  agent: http.Agent,
  baseUrl: string,
  path: string,
  token: string,
  everyMs: number,
  on: { beat(): void; answer(status: number): void; error(reason: string): void },
): BeatStreamHold {
  const base = new URL(baseUrl);
  let req: http.ClientRequest | undefined;
  let openedAt = 0;
  let closed = false;
  const open = () => {
    openedAt = Date.now();
    const r = http.request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path,
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': BEAT_STREAM_TYPE,
        'transfer-encoding': 'chunked',
      },
    });
    r.on('response', (res) => {
      res.resume();
      on.answer(res.statusCode ?? 0);
    });
    r.on('error', (e) => {
      if (!closed) on.error(e.message);
    });
    r.flushHeaders();
    req = r;
  };
  let timer: NodeJS.Timeout | undefined;
  const beat = () => {
    if (closed) return;
    if (!req || req.writableEnded || req.destroyed) open();
    req!.write('\n');
    on.beat();
    if (Date.now() - openedAt >= BEAT_STREAM_MS) req!.end();
  };
  // Spread over the interval, as independent nodes would be.
  const first = setTimeout(() => {
    beat();
    timer = setInterval(beat, everyMs);
  }, Math.random() * everyMs);
  return {
    close() {
      closed = true;
      clearTimeout(first);
      clearInterval(timer);
      req?.destroy();
    },
  };
}

/** Holds GET /api/v1/events open and hands each server-sent event to onEvent. */
export function openEventStream(
  agent: http.Agent,
  baseUrl: string,
  path: string,
  token: string,
  onEvent: (event: string, data: unknown) => void,
  onClose: (reason: string) => void,
  timeoutMs = 30_000,
): EventStream {
  const base = new URL(baseUrl);
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const stream: EventStream = {
    ready,
    closed: false,
    close: () => {
      stream.closed = true;
      req.destroy();
    },
  };
  const fail = (reason: string) => {
    if (stream.closed) return;
    stream.closed = true;
    settle?.reject(new Error(reason));
    settle = undefined;
    onClose(reason);
  };
  const timer = setTimeout(() => {
    if (settle) {
      fail(`GET ${path}: no event in ${timeoutMs} ms`);
      req.destroy();
    }
  }, timeoutMs);
  const req = http.get(
    {
      host: base.hostname,
      port: base.port,
      path,
      agent,
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    },
    (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        clearTimeout(timer);
        fail(`GET ${path}: HTTP ${res.statusCode}`);
        return;
      }
      const parser = new SseParser();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const m of parser.push(chunk)) {
          if (settle) {
            clearTimeout(timer);
            settle.resolve();
            settle = undefined;
          }
          onEvent(m.event, m.data);
        }
      });
      res.on('end', () => fail('stream ended'));
      res.on('error', (e) => fail(e.message));
    },
  );
  req.on('error', (e) => {
    clearTimeout(timer);
    fail(e.message);
  });
  ready.catch(() => undefined);
  return stream;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `fn` on every item with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Rejects after `ms` with `what` in the message; the timer never keeps the process alive. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${(ms / 1000).toFixed(0)} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
