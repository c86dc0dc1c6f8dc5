import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../examples/voting-app/src/backoff.js';
import { parseBallot } from '../../examples/voting-app/src/ballot.js';
import { allowedOptionsMessage, isOption, OPTIONS } from '../../examples/voting-app/src/config.js';
import {
  contractEnvName,
  fabricAddress,
  parseHostPort,
} from '../../examples/voting-app/src/fabric-address.js';
import { detectProtocol } from '../../examples/voting-app/src/queue/detect.js';
import { formatEvent } from '../../examples/voting-app/src/sse.js';
import { emptyTally, percentOf } from '../../examples/voting-app/src/tally.js';
import { isConnectionError } from '../../examples/voting-app/src/upstreams.js';

describe('poll config', () => {
  it('has the seed’s two options, and the refusal names both', () => {
    expect(OPTIONS).toEqual(['Mesos', 'Kubernetes']);
    expect(isOption('Mesos')).toBe(true);
    expect(isOption('mesos')).toBe(false);
    expect(allowedOptionsMessage('Nomad')).toBe('vote must be one of Mesos, Kubernetes (got "Nomad")');
  });
});

describe('ballot schema', () => {
  const good = { voterId: 'ab'.repeat(16), vote: 'Kubernetes', seq: 3, ts: '2026-11-25T10:00:00.000Z' };
  it('accepts a well-formed ballot', () => {
    expect(parseBallot(good)).toEqual({ ok: true, ballot: good });
  });
  it('names every wrong field', () => {
    const r = parseBallot({ voterId: 'xyz', vote: 'Nomad', seq: 0, ts: 'yesterday', extra: 1 });
    expect(r.ok).toBe(false);
    const error = r.ok ? '' : r.error;
    for (const field of ['voterId', 'vote', 'seq', 'ts']) expect(error).toContain(`${field}:`);
    expect(error).toMatch(/extra/);
  });
  it('refuses a non-integer seq and a non-object', () => {
    expect(parseBallot({ ...good, seq: 1.5 }).ok).toBe(false);
    expect(parseBallot('{"vote":"Mesos"}').ok).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const o = { initialMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(5, o, () => 0)).toBe(10); // never 0: no hot loop
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(3, o)));
    expect(samples.size).toBeGreaterThan(10);
  });
});

describe('fabric addresses', () => {
  it('names the env variable after the contract, as the agent does', () => {
    expect(contractEnvName('voting-frontend')).toBe('VOTING_FRONTEND_ADDR');
    expect(contractEnvName('result-worker')).toBe('RESULT_WORKER_ADDR');
  });
  it('parses host:port and names a bad value', () => {
    expect(parseHostPort('127.0.2.3:40001')).toEqual({ host: '127.0.2.3', port: 40001 });
    expect(parseHostPort('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(() => parseHostPort('127.0.2.3')).toThrow(/bad address "127.0.2.3": expected host:port/);
    expect(() => parseHostPort('h:70000')).toThrow(/bad address/);
  });
  it('prefers the agent’s env file (re-read each time) over the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voting-env-'));
    try {
      const file = join(dir, 'fabric.env');
      const env = { TRELLIS_ENV_FILE: file, VOTING_BACKEND_ADDR: '127.0.0.1:1' };
      const addr = fabricAddress('voting-backend', env);
      expect(await addr()).toBe('127.0.0.1:1'); // no file yet
      await writeFile(file, 'VOTING_BACKEND_ADDR=127.0.2.4:41000\n');
      expect(await addr()).toBe('127.0.2.4:41000');
      await writeFile(file, 'VOTING_BACKEND_ADDR=127.0.2.4:41001\n');
      expect(await addr()).toBe('127.0.2.4:41001');
      expect(await fabricAddress('result-backend', {})()).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tally', () => {
  it('has the options first, then the total', () => {
    expect(JSON.stringify(emptyTally())).toBe('{"Mesos":0,"Kubernetes":0,"total":0}');
  });
  it('gives percentages with one decimal, 0 with no votes', () => {
    expect(percentOf({ Mesos: 1, Kubernetes: 2, total: 3 }, 'Mesos')).toBe(33.3);
    expect(percentOf(emptyTally(), 'Kubernetes')).toBe(0);
  });
});

describe('server-sent events', () => {
  it('formats an event with its id and JSON data', () => {
    expect(formatEvent({ event: 'tally', id: 3, data: { Mesos: 1 } })).toBe(
      'event: tally\nid: 3\ndata: {"Mesos":1}\n\n',
    );
  });
});

describe('connection errors', () => {
  it('tells a broken connection from a refused statement', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false); // unique violation
    expect(isConnectionError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true); // admin shutdown
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });
});

describe('protocol detection', () => {
  it('gives up with a reason when neither Redis nor Postgres answers', async () => {
    // A server that accepts and says something else (an HTTP server would).
    const server = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.8.61', () => r()));
    const { port } = server.address() as { port: number };
    try {
      await expect(detectProtocol({ host: '127.0.8.61', port })).rejects.toThrow(
        /cannot tell the protocol at 127\.0\.8\.61:\d+: .*unexpected reply/,
      );
    } finally {
      server.close();
    }
  });
});
