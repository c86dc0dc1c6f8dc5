import { connect, type Socket } from 'node:net';
import type { HostPort } from '../fabric-address.js';
import type { VotingDbKind } from './ballot-queue.js';

/**
 * Which protocol a voting-backend address speaks, for when VOTING_DB_KIND does not say.
 *
 * Two probes race on two connections, and the first decisive answer wins — no timeout in the
 * normal case:
 * - `PING\r\n`: Redis answers `+PONG` at once (a Postgres server reads the bytes as the
 *   length of a startup packet and waits or hangs up);
 * - a Postgres SSLRequest (8 bytes): Postgres and pglite-socket answer `N` or `S` at once
 *   (Redis waits for a newline that its inline parser never finds past the leading NUL).
 * One probe cannot do both: Redis stops looking for the end of an inline command at a NUL,
 * and a Postgres server takes whatever comes first as a length.
 *
 * A connection closed before a decisive answer decides nothing (the fabric may accept a flow
 * before the server behind it is up): if neither probe decides, the caller retries.
 */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const PING = Buffer.from('PING\r\n');

function probe(
  at: HostPort,
  payload: Buffer,
  decide: (reply: Buffer) => VotingDbKind | undefined,
  sockets: Socket[],
): Promise<VotingDbKind> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: at.host, port: at.port });
    sockets.push(socket);
    let got = Buffer.alloc(0);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]).subarray(0, 64);
      const kind = decide(got);
      if (kind) resolve(kind);
      else if (got.length >= 5)
        reject(new Error(`unexpected reply ${JSON.stringify(got.toString('latin1'))}`));
    });
    socket.on('error', (err) => reject(err));
    socket.on('close', () => reject(new Error('closed without an answer')));
  });
}

export function detectProtocol(at: HostPort, timeoutMs = 3_000): Promise<VotingDbKind> {
  const sockets: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const probes = [
    probe(at, PING, (r) => (r.toString('latin1').startsWith('+PONG') ? 'redis' : undefined), sockets),
    probe(at, SSL_REQUEST, (r) => (r[0] === 0x4e || r[0] === 0x53 ? 'pglite' : undefined), sockets),
  ];
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([Promise.any(probes), timeout])
    .catch((err: Error) => {
      const why =
        err instanceof AggregateError ? err.errors.map((e: Error) => e.message).join('; ') : err.message;
      throw new Error(`cannot tell the protocol at ${at.host}:${at.port}: ${why}`);
    })
    .finally(() => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
    });
}
