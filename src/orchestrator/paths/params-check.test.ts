import { describe, expect, it } from 'vitest';
import { routeFlow } from './flow-route.js';
import { buildGraph } from './graph.js';
import { checkRoleParams, MAX_PATH_LINKS, MAX_PATH_PROCESSORS } from './params-check.js';

// Issue 11 finding 5: path params the router can never meet were stored, then every flow 502'd.
describe('checkRoleParams (path params refused when written)', () => {
  it('refuses a transit that is also in avoid, naming the avoid entry (was 200, then every flow 502)', () => {
    expect(checkRoleParams('server', { transit: 'aws-p2', avoid: ['gcp-p1', 'aws-p2'] })).toEqual({
      constraint: 'avoid',
      field: 'avoid[1]',
      reason: 'transit aws-p2 is also in avoid; a path cannot both visit and avoid it',
    });
  });

  it('refuses a transit list that revisits a processor ([aws-p2, gcp-p1]×8 took every flow down)', () => {
    const transit = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 'aws-p2' : 'gcp-p1'));
    expect(checkRoleParams('client', { transit })).toEqual({
      constraint: 'transit',
      field: 'transit[2]',
      reason: expect.stringContaining('transit lists aws-p2 twice (transit[0] and transit[2])'),
    });
    // Consecutive repeats too: one rule, each processor once.
    expect(checkRoleParams('client', { transit: ['a', 'a'] })?.field).toBe('transit[1]');
  });

  it('refuses a maxHops smaller than the transit list needs, counting links', () => {
    // Three processors in order take at least two links.
    expect(checkRoleParams('client', { transit: ['a', 'b', 'c'], maxHops: 1 })).toMatchObject({
      constraint: 'maxHops',
      field: 'maxHops',
      reason: expect.stringContaining('maxHops 1 is fewer links than transit [a, b, c] needs'),
    });
    expect(checkRoleParams('client', { transit: ['a', 'b', 'c'], maxHops: 2 })).toBeUndefined();
  });

  it('merges both roles as the router does: client transit, then server transit reversed', () => {
    // The client's transit and the server's avoid, in either direction of the write.
    expect(checkRoleParams('server', { avoid: ['x'] }, { transit: ['x'] })).toMatchObject({
      constraint: 'avoid',
      field: 'avoid[0]',
      reason: "avoid x is in the client role's transit; a path cannot both visit and avoid it",
    });
    expect(checkRoleParams('client', { transit: ['x'] }, { avoid: ['x'] })).toMatchObject({
      field: 'transit[0]',
      reason: expect.stringContaining("transit x is in the server role's avoid"),
    });
    // A processor both roles list is visited once, where the client's list puts it (the docs' example).
    expect(checkRoleParams('server', { transit: ['z', 'y', 'w'] }, { transit: ['x', 'y'] })).toBeUndefined();
    // The smaller maxHops of the two roles against the merged transit.
    expect(
      checkRoleParams('server', { transit: ['c', 'd'] }, { transit: ['a', 'b'], maxHops: 2 }),
    ).toMatchObject({
      constraint: 'maxHops',
      field: 'transit',
      reason: expect.stringContaining("with the client role's path params, maxHops 2 is fewer links"),
    });
  });

  it('refuses a merged transit longer than a flow ticket carries', () => {
    const names = (p: string) => Array.from({ length: 9 }, (_, i) => `${p}${i}`);
    expect(checkRoleParams('server', { transit: names('s') }, { transit: names('c') })).toMatchObject({
      constraint: 'ticket',
      reason: expect.stringContaining(
        `visit 18 processors; a flow ticket carries at most ${MAX_PATH_PROCESSORS}`,
      ),
    });
  });

  it('accepts params a topology could meet', () => {
    expect(checkRoleParams('client', {})).toBeUndefined();
    expect(
      checkRoleParams('client', { transit: 'aws-p2', avoid: ['azr-p1'], maxHops: 2 }, {}),
    ).toBeUndefined();
  });
});

describe('routeFlow (a path a flow ticket can carry)', () => {
  // A chain p00 — p01 — … — p19: the only path from one end to the other has 20 processors.
  const names = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const links = names.slice(1).map((b, i) => ({ a: names[i]!, b, cost: 1, status: 'up' as const }));
  const graph = buildGraph({ processors: names, links });

  it('refuses a path longer than a ticket carries, naming the limit (was a TicketError and a 500)', () => {
    expect(routeFlow(graph, 'p00', 'p19', { waypoints: [], avoid: [] })).toEqual({
      ok: false,
      constraint: 'ticket',
      reason: `no path from p00 to p19 fits in a flow ticket, which carries at most ${MAX_PATH_PROCESSORS} processors (${MAX_PATH_LINKS} links)`,
    });
    const fits = routeFlow(graph, 'p00', names[MAX_PATH_LINKS]!, { waypoints: [], avoid: [] });
    expect(fits).toMatchObject({ ok: true, hops: MAX_PATH_LINKS });
  });

  it('takes a dearer path that fits rather than a cheaper one that does not', () => {
    // A shortcut p00 — p19 dearer than the whole chain.
    const g = buildGraph({
      processors: names,
      links: [...links, { a: 'p00', b: 'p19', cost: 1000, status: 'up' }],
    });
    expect(routeFlow(g, 'p00', 'p19', { waypoints: [], avoid: [] })).toMatchObject({
      ok: true,
      path: ['p00', 'p19'],
    });
  });

  it("keeps a user's own maxHops as the reason when it binds", () => {
    expect(routeFlow(graph, 'p00', 'p05', { waypoints: [], avoid: [], maxHops: 2 })).toMatchObject({
      constraint: 'maxHops',
    });
  });
});
