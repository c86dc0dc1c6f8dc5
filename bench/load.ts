import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** A sink that reads everything and, at the client's end of stream, answers with the byte count. */
export function startSink(host: string, port: number): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    let n = 0;
    s.on('data', (d) => {
      n += d.length;
    });
    s.on('end', () => s.end(String(n)));
    s.on('error', () => undefined);
  });
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

/** An echo server: request/response latency and connection-rate tests. */
export function startEcho(host: string, port: number): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

const CHUNK = Buffer.alloc(256 * 1024, 7);

/** Sends `bytes` on `streams` parallel connections; returns MB/s of what the sink received. */
export async function throughput(
  addr: { host: string; port: number },
  bytes: number,
  streams: number,
): Promise<number> {
  const start = performance.now();
  const per = Math.floor(bytes / streams);
  const counts = await Promise.all(
    Array.from(
      { length: streams },
      () =>
        new Promise<number>((resolve, reject) => {
          const s = net.connect({ ...addr, noDelay: true, allowHalfOpen: true });
          let sent = 0;
          let answer = '';
          const pump = () => {
            while (sent < per) {
              sent += CHUNK.length;
              if (!s.write(CHUNK)) return void s.once('drain', pump);
            }
            s.end();
          };
          s.on('connect', pump);
          s.on('data', (d) => {
            answer += d;
          });
          s.on('end', () => resolve(Number(answer)));
          s.on('error', reject);
          s.setTimeout(60_000, () => s.destroy(new Error('throughput stream timed out')));
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  return counts.reduce((a, b) => a + b, 0) / 1e6 / seconds;
}

/** One keep-alive connection, requests sent at `rate`/s for `seconds`; returns RTT percentiles (µs). */
export async function latency(addr: { host: string; port: number }, rate: number, seconds: number) {
  const s = net.connect({ ...addr, noDelay: true });
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  const req = Buffer.alloc(100, 1);
  const samples: number[] = [];
  const total = rate * seconds;
  const interval = 1000 / rate;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    await new Promise<void>((resolve) => {
      let got = 0;
      const on = (d: Buffer) => {
        got += d.length;
        if (got >= req.length) {
          s.off('data', on);
          resolve();
        }
      };
      s.on('data', on);
      s.write(req);
    });
    samples.push((performance.now() - sentAt) * 1000);
  }
  s.destroy();
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50: pct(0.5), p99: pct(0.99) };
}

/** New connections per second without keep-alive: connect, 1 request, answer, close. */
export async function newFlows(
  addr: { host: string; port: number },
  concurrency: number,
  seconds: number,
): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect({ ...addr, noDelay: true });
        s.on('connect', () => s.write('ping'));
        s.on('data', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
        s.setTimeout(5000, () => {
          s.destroy();
          resolve(false);
        });
      });
      if (ok) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed > done / 10) throw new Error(`too many failed connections: ${failed} failed, ${done} ok`);
  return done / seconds;
}
