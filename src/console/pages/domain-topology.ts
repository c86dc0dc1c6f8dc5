import type { ElementDefinition, StylesheetJson } from 'cytoscape';
import { cli, errorBox, h, hex32, mount } from '../dom.js';
import { onEvent } from '../events.js';
import { COLORS, graphView } from '../graph.js';
import { enc, type Page } from '../router.js';
import { api } from '../session.js';

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      width: 44,
      height: 44,
      'background-color': COLORS.workload,
      color: COLORS.text,
      'font-size': 13,
      'font-weight': 'bold',
      'text-valign': 'bottom',
      'text-margin-y': 6,
      'font-family': 'Inter, system-ui, sans-serif',
    },
  },
  {
    selector: 'edge',
    style: {
      label: 'data(label)',
      width: 2.5,
      'line-color': COLORS.edge,
      'target-arrow-color': COLORS.edge,
      'target-arrow-shape': 'triangle',
      'curve-style': 'bezier',
      'font-size': 11,
      color: '#334e68',
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 1,
      'text-background-padding': '2px',
    },
  },
];

/**
 * A layered drawing of the service graph: a node's layer is its distance from the bottom
 * (databases at the bottom, their callers above), and each layer is ordered by where its
 * callers sit, which keeps a typical application graph free of crossings.
 */
function layered(
  names: string[],
  edges: { client: string; server: string }[],
): Map<string, { x: number; y: number }> {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.client, [...(out.get(e.client) ?? []), e.server]);
  const height = new Map<string, number>();
  const visit = (n: string, seen: Set<string>): number => {
    const known = height.get(n);
    if (known !== undefined) return known;
    if (seen.has(n)) return 0; // a cycle: cut it here
    seen.add(n);
    const h = Math.max(-1, ...(out.get(n) ?? []).map((m) => visit(m, seen))) + 1;
    height.set(n, h);
    return h;
  };
  for (const n of names) visit(n, new Set());
  const top = Math.max(0, ...height.values());
  const layers = Array.from({ length: top + 1 }, (_, i) => names.filter((n) => height.get(n) === top - i));
  const pos = new Map<string, { x: number; y: number }>();
  const place = (layer: string[], y: number, neighbours: (n: string) => string[]) => {
    const bary = (n: string) => {
      const xs = neighbours(n).flatMap((m) => (pos.has(m) ? [pos.get(m)!.x] : []));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    };
    const order = [...layer].sort((a, b) => bary(a) - bary(b) || a.localeCompare(b));
    for (const [i, n] of order.entries()) pos.set(n, { x: (i - (order.length - 1) / 2) * 220, y: y * 170 });
  };
  const callers = (n: string) => edges.filter((e) => e.server === n).map((e) => e.client);
  const both = (n: string) => [...callers(n), ...(out.get(n) ?? [])];
  for (const [y, l] of layers.entries()) place(l, y, callers);
  // A few sweeps over all neighbours settle nodes that have no caller (a worker) between their callees.
  for (let sweep = 0; sweep < 3; sweep++) {
    for (let y = layers.length - 1; y >= 0; y--) place(layers[y]!, y, both);
    for (const [y, l] of layers.entries()) place(l, y, both);
  }
  return pos;
}

/** The service graph of a domain: host owners as nodes, contracts as edges client → server. */
export const domainTopologyPage: Page = (outlet, { domain }) => {
  const d = domain!;
  const view = graphView({
    label: 'Domain Topology',
    style: STYLE,
    toolbar: h('span', { class: 'muted' }, 'nodes: host owners · edges: contracts, client → server'),
  });
  const error = h('div');
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h(
        'p',
        { class: 'crumbs' },
        h('a', { href: '/domains' }, 'Domains'),
        ' / ',
        h('a', { href: `/domains/${enc(d)}` }, d),
        ' / Domain Topology',
      ),
      h('h1', null, `Domain Topology — ${d}`),
    ),
    error,
    view.el,
    cli(`trellis get domain-topology ${d}`),
  );
  const refresh = async () => {
    try {
      const g = await api((a) => a.domainTopology(d));
      error.replaceChildren();
      const pos = layered(
        g.nodes.map((n) => n.name),
        g.edges,
      );
      const els: ElementDefinition[] = [
        ...g.nodes.map((n) => ({ data: { id: `u:${n.name}`, label: n.name }, position: pos.get(n.name)! })),
        ...g.edges.map((e) => ({
          data: {
            id: `c:${e.contract}:${e.client}:${e.server}`,
            source: `u:${e.client}`,
            target: `u:${e.server}`,
            label: e.contract,
          },
        })),
      ];
      view.update(
        els,
        {
          nodes: { columns: ['Name', 'Kind'], rows: g.nodes.map((n) => [n.name, n.kind]) },
          edges: {
            columns: ['Contract', 'Client', 'Server', 'Contract ID'],
            rows: g.edges.map((e) => [
              h('a', { href: `/contracts/${enc(d)}/${enc(e.contract)}` }, e.contract),
              e.client,
              e.server,
              hex32(e.contractId),
            ]),
          },
        },
        { name: 'preset', fit: true, padding: 50 },
      );
    } catch (err) {
      mount(error, errorBox(err));
    }
  };
  const off = onEvent((e) => {
    if (e.type === 'policy') void refresh();
  });
  void refresh();
  return () => {
    off();
    view.destroy();
  };
};
