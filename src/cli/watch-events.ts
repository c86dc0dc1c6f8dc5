import { type ApiClient, ApiError } from '../api-client/client.js';
import { denyCodeOf } from '../deny-codes.js';
import type { DenialView } from '../model/denial.js';
import type { DenialEvent, FlowsEvent, NodeEvent } from '../model/events.js';
import type { DenialFilters } from './get-kinds.js';

/**
 * What each `trellis get KIND --watch` makes of an event of the stream (watch.ts): the rows it
 * names, `reread`, or none. The stream is asked only for the kinds a watch reads (`kinds`).
 */

/** `--watch` of nodes: each node event of the stream is that node's row, read again. */
export function nodeEvents(api: ApiClient, name: string | undefined, domain: string | undefined) {
  // A row is a FabricNode, or a deleted node's event in its columns (no FabricNode: its status is `deleted`).
  return async (event: string, data: unknown): Promise<unknown[]> => {
    if (event !== 'node') return [];
    const e = data as Partial<NodeEvent>;
    if (typeof e.name !== 'string' || (name && e.name !== name) || (domain && e.domain !== domain)) return [];
    // A deleted node has no row to read: the event's own fields, in the same columns.
    if (e.status === 'deleted')
      return [
        {
          ...e,
          nodeId: '',
          addresses: [],
          processors: [],
          endpoint: '',
          lastSeen: new Date().toISOString(),
        },
      ];
    try {
      return [await api.node(e.name)];
    } catch (err) {
      // Deleted between the event and this read: its deletion event follows.
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  };
}

/**
 * Whether a denial is one `get denials` lists with these filters: the checks GET /denials makes
 * of each row (domain, contract, code, and a node that reported it or is one of its ends).
 */
export function denialMatches(d: DenialView, domain: string | undefined, f: DenialFilters): boolean {
  if (domain && d.domain !== domain) return false;
  if (f.contract && d.contract !== f.contract) return false;
  // A code or its metric label (`no-server`), as GET /denials takes either.
  if (f.reason && d.code !== denyCodeOf(f.reason)) return false;
  if (f.node && ![d.reportedBy, d.source?.name, d.destination?.name].includes(f.node)) return false;
  return true;
}

/**
 * `--watch` of denials: the event's denials that pass the filters are the new rows. A grouped
 * listing (its counts move) or a time range (the server reads `15m` by its clock) is read
 * again instead, when the event has any denial of interest.
 */
export function denialEvents(domain: string | undefined, f: DenialFilters) {
  const reread = f.group === true || f.since !== undefined || f.until !== undefined;
  return async (event: string, data: unknown): Promise<DenialView[] | 'reread'> => {
    if (event !== 'denial') return [];
    const rows = ((data as Partial<DenialEvent>).denials ?? []).filter((d) => denialMatches(d, domain, f));
    return reread && rows.length > 0 ? 'reread' : rows;
  };
}

/** `--watch` of one processor's flows: its table changed, so it is read again (with the caller's names). */
export function flowsEvents(processor: string) {
  return async (event: string, data: unknown): Promise<'reread' | []> =>
    event === 'flows' && (data as Partial<FlowsEvent>).processor === processor ? 'reread' : [];
}
