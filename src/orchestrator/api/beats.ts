import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../errors.js';
import { BEAT_STREAM_MAX_BYTES, BEAT_STREAM_TYPE } from '../../node/runtime/beat.js';
import type { Orchestrator } from '../context.js';
import { recordBeat } from '../liveness.js';
import { getNode, touchNode } from '../store/repos/nodes.js';
import { requireOwner } from './nodes.js';
import { bearerToken, route } from './route.js';

/**
 * A node's beat stream: one POST whose body the node writes a byte into every BEAT_MS while it
 * holds its event stream, so that 1,000 nodes prove they still answer without 1,430 requests a
 * second (each a session lookup and store queries: more than one orchestrator thread could
 * serve). Authenticated once, when it opens; logout and revocation cut it like an event
 * stream. Each chunk read is a beat (liveness.ts keeps it in memory); the node ends the body
 * after BEAT_STREAM_MS and opens the next, and is answered with how many beats were read.
 *
 * Hostile peers: the body is never buffered or parsed, and a stream that sends more than
 * BEAT_STREAM_MAX_BYTES (about ten times what a node's beats add up to) is cut; the server's
 * request timeout (Node's 300 s) bounds how long one request may take, as for any other.
 */
export function beatRoutes(app: FastifyInstance, o: Orchestrator): void {
  // Its own scope: the parser that leaves the body unread applies to this route only.
  void app.register(async (scope) => {
    scope.addContentTypeParser(BEAT_STREAM_TYPE, (_req, _payload, done) => done(null, undefined));
    route(scope, o, {
      method: 'POST',
      url: '/api/v1/nodes/:name/beats',
      summary: `Hold the node's beat stream (owner only): a ${BEAT_STREAM_TYPE} body of one byte per beat, read as it arrives; answered when it ends`,
      tag: 'nodes',
      response: z.object({ beats: z.number().int().nonnegative() }),
      handler: async ({ principal, params, req }) => {
        // A node holding its event stream was checked against the store when that opened: its
        // beat stream is checked against the same owner, with no store read. Under load the
        // store's queue is seconds long, and until this handler listens the node's beats go
        // unread — at 5,000 agents every reopened beat stream (one a minute per node) then
        // looked like a silent node and was marked unreachable (docs/benchmarks.md).
        const name = params.name!;
        const held = o.liveStreams.get(name);
        const node = held ? { name, owner: held.owner, domain: held.domain } : await getNode(o.db, name);
        if (!node) throw notFound('node', name, '; register it again');
        requireOwner(principal, node, 'beat for');
        const raw = req.raw;
        const release = o.openStreams.hold(bearerToken(req), principal, () => raw.destroy());
        return new Promise<{ beats: number }>((resolve) => {
          let beats = 0;
          let bytes = 0;
          const beat = () => {
            // Beats prove a node alive only while it holds its event stream (an open stream with
            // no beats is how a stopped process looks); without one, they keep it seen.
            if (o.liveStreams.has(node.name)) return recordBeat(o, node.name);
            return touchNode(o.db, node.name, new Date());
          };
          raw.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > BEAT_STREAM_MAX_BYTES) {
              raw.destroy();
              return;
            }
            beats++;
            beat().catch((err: unknown) => o.log.warn({ err, node: node.name }, 'recording a beat failed'));
          });
          raw.on('end', () => resolve({ beats }));
          raw.on('close', () => {
            release();
            resolve({ beats });
          });
        });
      },
    });
  });
}
