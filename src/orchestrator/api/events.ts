import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { FabricEventOnWire, ON_REQUEST_EVENTS } from '../../model/events.js';
import { Name } from '../../model/index.js';
import { requireAdmin } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import type { EventKind, FabricEvent } from '../events.js';
import { forgetBeats } from '../liveness.js';
import { nodeStatusChanged } from '../node-status.js';
import { bundleMayChange } from '../policy/change-scope.js';
import { fabricSnapshot } from '../policy/snapshot.js';
import { getMeta } from '../store/repos/meta.js';
import { getNode, setNodeStatus, touchNode } from '../store/repos/nodes.js';
import { FrameBatcher } from './event-batch.js';
import { eventVisibleTo } from './event-scope.js';
import { PeerSet } from './peer-filter.js';
import { bearerToken, route } from './route.js';

// A subscriber this far behind (bytes queued in its socket) is closed, not waited for; it
// reconnects and resyncs from the snapshot event.
const MAX_BACKLOG = 1 << 20;
const KEEPALIVE_MS = 15_000;
const CHECK = process.env.TRELLIS_CHECK_RESPONSES === '1';

const KINDS = ['policy', 'ticket-keys', 'node', 'peer-health', ...ON_REQUEST_EVENTS] as const;
const KIND = KINDS.join('|');
/** `?kinds=node,denial`: a comma-separated list of event kinds (the pattern the OpenAPI document shows). */
const Kinds = z
  .string()
  .max(200)
  .regex(new RegExp(`^(${KIND})(,(${KIND}))*$`), `a comma-separated list of ${KINDS.join(', ')}`);

export function eventRoutes(app: FastifyInstance, o: Orchestrator): void {
  const batch = new FrameBatcher();
  app.addHook('onClose', async () => batch.close());
  route(app, o, {
    method: 'GET',
    url: '/api/v1/events',
    summary:
      'Server-sent events: policy epoch changes, node status changes, peer ejections; with ?kinds=denial,flows (admins only) denials and flow-table changes. ?kinds= narrows a stream to those kinds (hello always comes first). A node passing ?node=NAME (its owner) is held connected while the stream is open.',
    tag: 'events',
    query: z.strictObject({ node: Name.optional(), kinds: Kinds.optional() }),
    response: FabricEventOnWire,
    contentType: 'text/event-stream',
    handler: async ({ principal, query, reply, req }) => {
      const kinds = query.kinds ? (query.kinds.split(',') as EventKind[]) : undefined;
      const asked = kinds?.filter((k) => (ON_REQUEST_EVENTS as readonly string[]).includes(k)) ?? [];
      // The rule of GET /denials and GET /processors/NAME/flows: operators only, never a node.
      if (asked.length > 0) requireAdmin(principal, `follow ${asked.join(' and ')} events`);
      // A node's stream carries what its node needs (its peer filter follows policy events).
      if (kinds && query.node)
        throw new TrellisError(
          'TRELLIS_ERR_VALIDATION',
          "?kinds= narrows an operator's stream, not a node's",
          {
            field: 'query.kinds',
            hint: 'leave out ?kinds= with ?node=',
          },
        );
      let nodeName: string | undefined;
      let workload: { name: string; owner: string; domain: string } | undefined;
      if (query.node) {
        // As the bundle route does: the node as the policy snapshot holds it (its record changes
        // only by registering or being deleted, both published as node events that patch the
        // snapshot), the store only for one not there yet. A store read saved per stream opened.
        const node =
          (await fabricSnapshot(o)).nodeByName.get(query.node) ?? (await getNode(o.db, query.node));
        if (
          node &&
          principal.type === 'resource' &&
          node.owner === principal.name &&
          node.domain === principal.domain &&
          (principal.node === undefined || principal.node === node.name)
        ) {
          nodeName = node.name;
          if (node.kind === 'workload')
            workload = { name: node.name, owner: node.owner, domain: node.domain };
          await touchNode(o.db, node.name, new Date());
          const held = o.liveStreams.get(node.name);
          if (held) held.count++;
          else o.liveStreams.set(node.name, { count: 1, owner: node.owner, domain: node.domain });
        }
      }
      reply.hijack();
      const res = reply.raw;
      // Closed already, during the reads before the hijack: 'close' will not come again.
      const gone = req.raw.destroyed || req.raw.socket.destroyed;
      // A workload's stream joins its host owner's group, whose peer set filters node events.
      const member = workload && !gone ? joinGroup(o, workload) : undefined;
      let unsubscribe = () => {};
      let keepalive: NodeJS.Timeout | undefined;
      let closed = false;
      // Attached before anything more is awaited: a stream that closes while the reads below wait
      // (an agent that timed out under load) must still let its node go and leave the hub. It
      // was attached after them, and such a node stayed held open for ever (never
      // `disconnected`), its listener called for every event (test/beat-stream.test.ts).
      const cleanUp = () => {
        if (closed) return;
        closed = true;
        member?.group.release();
        clearInterval(keepalive);
        batch.forget(res);
        unsubscribe();
        if (!nodeName || o.closing) return;
        const held = o.liveStreams.get(nodeName);
        if (held && --held.count > 0) return;
        o.liveStreams.delete(nodeName);
        forgetBeats(o, nodeName);
        // The process is gone (or cut off): show it at once rather than after the heartbeat timeout.
        const name = nodeName;
        void (async () => {
          const node = await getNode(o.db, name);
          if (node?.status !== 'connected' && node?.status !== 'unreachable') return;
          await setNodeStatus(o.db, name, 'disconnected');
          await nodeStatusChanged(o, [node], 'disconnected');
        })().catch((err: unknown) => o.log.warn({ err }, 'marking node disconnected failed'));
      };
      req.raw.on('close', cleanUp);
      if (gone) return cleanUp();
      // Logout and session revocation cut it: it was authenticated only when it opened.
      req.raw.on(
        'close',
        o.openStreams.hold(bearerToken(req), principal, () => res.destroy()),
      );
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // The first filter is in place before `hello`: the agent's first bundle and the node
      // events after it then agree on who its peers are.
      await member?.group.gate.ready;
      // Closed while the peers loaded: no store read queued for a stream nobody reads.
      if (closed) return;
      const send = (e: FabricEvent | { type: 'hello'; epoch: number }) => {
        if (!eventVisibleTo(principal, e)) return;
        if (member && !member.group.gate.wants(e, member.name)) return;
        // After the filters: `writableLength` is a getter, and most node events during a rollout
        // are for other streams (it was 1 % of the orchestrator's CPU while 1,000 agents registered).
        if (res.writableLength + batch.queuedBytes(res) > MAX_BACKLOG) {
          res.destroy();
          return;
        }
        // A workload's agent is told whether its own bundle may have changed, and nothing about
        // anyone else's: unchanged, it keeps the bundle it holds (no refetch of 45 KB).
        if (e.type === 'policy' && workload && !bundleMayChange(e.scope, workload)) {
          batch.write(res, frame(e, 'unchanged'));
          return;
        }
        // Node events share a write per stream (event-batch.ts); the rest go out at once.
        if (e.type === 'node') batch.queue(res, frame(e));
        else batch.write(res, frame(e));
      };
      // The snapshot a (re)connecting subscriber resyncs from.
      let epoch: number;
      try {
        epoch = (await getMeta<number>(o.db, 'policyEpoch')) ?? 0;
      } catch (err) {
        // Headers are out (200): a failed read can only end the stream; the agent reconnects.
        o.log.warn({ err }, 'event stream: reading the policy epoch failed');
        res.destroy();
        return;
      }
      if (closed) return;
      send({ type: 'hello', epoch });
      unsubscribe = member ? member.group.subscribe(send) : o.events.subscribe(send, kinds);
      keepalive = setInterval(() => batch.write(res, ': keepalive\n\n'), KEEPALIVE_MS);
    },
  });
}

/** A workload stream's place in its host owner's group, and the node its gate asks about. */
function joinGroup(o: Orchestrator, w: { name: string; owner: string; domain: string }) {
  return { name: w.name, group: o.events.group(PeerSet.key(w), () => new PeerSet(o, w.domain, w.owner)) };
}

/** An event's SSE frames (as is, and a policy event's `bundle: unchanged` form), serialized once however many subscribers it goes to. */
const frames = new WeakMap<object, string>();
const unchangedFrames = new WeakMap<object, string>();
function frame(e: FabricEvent | { type: 'hello'; epoch: number }, bundle?: 'unchanged'): string {
  const cache = bundle ? unchangedFrames : frames;
  let f = cache.get(e);
  if (f === undefined) {
    const sent = wire(e, bundle);
    // Under test every event is checked against the schema the OpenAPI document gives the stream.
    if (CHECK) FabricEventOnWire.parse(sent);
    f = `event: ${e.type}\ndata: ${JSON.stringify(sent)}\n\n`;
    cache.set(e, f);
  }
  return f;
}

/** What goes on the wire: a policy event's scope stays in the orchestrator (it names other domains' owners). */
function wire(e: FabricEvent | { type: 'hello'; epoch: number }, bundle?: 'unchanged'): object {
  if (e.type !== 'policy') return e;
  const { scope: _, ...sent } = e;
  return bundle ? { ...sent, bundle } : sent;
}
