import type { ElementDefinition, StylesheetJson } from 'cytoscape';
import type { PathAnswer, Topology } from '../../api-client/client.js';
import type { Contract, FabricNode } from '../../model/index.js';
import { badge, cli, errorBox, h, liveAgo, mount } from '../dom.js';
import { onEvent } from '../events.js';
import { COLORS, graphView } from '../graph.js';
import type { Page } from '../router.js';
import { api } from '../session.js';
import { layoutTopology } from '../topology-layout.js';
import { LAST_SEEN_POLL_MS } from './resources.js';

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      color: COLORS.text,
      'font-size': 14,
      'font-family': 'Inter, system-ui, sans-serif',
      'text-valign': 'bottom',
      'text-margin-y': 6,
      'border-width': 2,
      'border-color': '#ffffff',
    },
  },
  {
    selector: 'node.processor',
    style: {
      width: 72,
      height: 72,
      'background-color': COLORS.processor,
      'font-weight': 'bold',
      'font-size': 15,
      'text-valign': 'center',
      color: '#ffffff',
      'text-margin-y': 0,
      'text-outline-width': 0,
    },
  },
  { selector: 'node.workload', style: { width: 28, height: 28, 'background-color': COLORS.workload } },
  { selector: 'node.unregistered', style: { 'background-color': COLORS.idle } },
  { selector: 'node.disconnected', style: { 'background-color': COLORS.down } },
  { selector: 'node.unreachable', style: { 'background-color': COLORS.unreachable } },
  { selector: 'node:selected', style: { 'border-color': COLORS.text, 'border-width': 3 } },
  {
    selector: 'edge',
    style: {
      width: 3,
      'line-color': COLORS.edge,
      'curve-style': 'bezier',
      label: 'data(label)',
      'font-size': 12,
      color: '#52606d',
      'text-background-color': '#ffffff',
      'text-background-opacity': 1,
      'text-background-padding': '2px',
    },
  },
  { selector: 'edge.down', style: { 'line-style': 'dashed', 'line-color': COLORS.down } },
  { selector: 'edge.attachment', style: { width: 1.5, 'line-color': '#cbd2d9', label: '' } },
  { selector: 'edge.onpath', style: { 'line-color': COLORS.path, width: 5, 'z-index': 10 } },
  { selector: 'edge.attachment.onpath', style: { width: 3 } },
  { selector: 'node.onpath', style: { 'border-color': COLORS.path, 'border-width': 4 } },
  {
    selector: 'node.transit',
    style: { 'border-color': COLORS.path, 'border-width': 8, 'border-style': 'double' },
  },
];

/** Processors on an ellipse, workloads on rings outside it (src/console/topology-layout.ts). */
function positions(t: Topology): Map<string, { x: number; y: number }> {
  const drawn = new Set(t.processors.map((p) => p.name));
  return layoutTopology({
    processors: t.processors.map((p) => p.name),
    workloads: t.workloads.map((w) => ({ name: w.name, processor: w.processors.find((x) => drawn.has(x)) })),
    links: t.links,
  });
}

/** One server instance of the highlighted contract and the path to it (or why there is none). */
interface ServerPath {
  server: string;
  answer?: PathAnswer;
  error?: unknown;
}

interface Highlight {
  contract: Contract;
  client?: string;
  /** Every registered server instance: a contract served by two or more shows them all. */
  servers: ServerPath[];
}

export const topologyPage: Page = (outlet) => {
  const overlay = h('aside', { class: 'overlay', hidden: true, 'aria-label': 'Node details' });
  const select = h('select', { 'aria-label': 'Highlight the path of a contract' });
  const pathInfo = h('div', { class: 'path-info', 'aria-live': 'polite' });
  const view = graphView({
    label: 'Topology',
    style: STYLE,
    overlay,
    toolbar: [
      h('span', { class: 'legend' }, h('i', { class: 'dot dot-processor' }), 'processor'),
      h('span', { class: 'legend' }, h('i', { class: 'dot dot-workload' }), 'workload node'),
      h('span', { class: 'legend' }, h('i', { class: 'dot dot-down' }), 'disconnected'),
      h('label', { class: 'inline' }, 'Path of contract ', select),
    ],
  });
  const error = h('div');
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Topology'),
      h('p', { class: 'muted' }, 'Processors, workload nodes and links; click a node for details.'),
    ),
    error,
    view.el,
    pathInfo,
    cli('trellis get nodes · trellis get links'),
  );

  let nodes = new Map<string, FabricNode>();
  let topo: Topology | null = null;
  let contracts: Contract[] = [];
  let highlight: Highlight | null = null;

  const showOverlay = (name: string) => {
    const n = nodes.get(name);
    const p = topo?.processors.find((x) => x.name === name);
    const rows: [string, string | Node][] = [
      ['Name', name],
      ['Kind', n?.kind ?? (p ? 'processor' : '—')],
      ['Node ID', n?.nodeId ?? p?.nodeId ?? '—'],
      ['Addresses', (n?.addresses ?? p?.addresses ?? []).join(', ') || '—'],
      ['Domain', n?.domain ?? '—'],
      ['Status', badge(n?.status ?? p?.status ?? 'unregistered')],
      ['Last seen', n ? liveAgo(n.lastSeen) : '—'],
    ];
    if (p) rows.splice(2, 0, ['Zone', p.zone]);
    if (n?.kind === 'workload') rows.splice(rows.length, 0, ['Processors', n.processors.join(', ') || '—']);
    rows.push(['Owner', n?.owner ?? '—']);
    mount(
      overlay,
      h(
        'div',
        { class: 'overlay-head' },
        h('strong', null, name),
        h(
          'button',
          {
            class: 'btn-icon',
            type: 'button',
            'aria-label': 'Close',
            onclick: () => {
              overlay.hidden = true;
              view.cy.elements().unselect();
            },
          },
          '✕',
        ),
      ),
      h(
        'dl',
        null,
        rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-field': k }, v)]),
      ),
    );
    overlay.hidden = false;
  };
  view.cy.on('tap', 'node', (ev) => showOverlay(ev.target.data('name') as string));
  view.cy.on('tap', (ev) => {
    if (ev.target === view.cy) overlay.hidden = true;
  });

  const applyHighlight = () => {
    view.cy.elements().removeClass('onpath transit');
    pathInfo.replaceChildren();
    if (!highlight) return;
    const { client, servers, contract } = highlight;
    if (!client || servers.length === 0) {
      mount(
        pathInfo,
        h('p', { class: 'muted' }, `No registered client and server nodes for ${contract.name} yet.`),
      );
      return;
    }
    const line = (s: ServerPath) => {
      if (!s.answer)
        return h('div', { 'data-server': s.server }, `${client} → ${s.server}: `, errorBox(s.error));
      const { answer } = s;
      const hops = answer.path;
      hops.forEach((p, i) => {
        view.cy.getElementById(`n:${p}`).addClass('onpath');
        const next = hops[i + 1];
        if (next)
          view.cy.getElementById(`l:${p < next ? `${p}--${next}` : `${next}--${p}`}`).addClass('onpath');
      });
      for (const t of answer.constraints.waypoints) view.cy.getElementById(`n:${t}`).addClass('transit');
      view.cy.getElementById(`n:${s.server}`).addClass('onpath');
      view.cy.getElementById(`a:${client}:${hops[0]}`).addClass('onpath');
      view.cy.getElementById(`a:${s.server}:${hops[hops.length - 1]}`).addClass('onpath');
      return h(
        'p',
        { 'data-server': s.server },
        h('strong', null, contract.name),
        ': ',
        [client, ...hops, s.server].join(' → '),
        h('span', { class: 'muted' }, ` · cost ${answer.cost}`),
        answer.constraints.waypoints.length
          ? h('span', { class: 'tag tag-transit' }, `transit ${answer.constraints.waypoints.join(', ')}`)
          : null,
        answer.constraints.avoid.length
          ? h('span', { class: 'tag' }, `avoid ${answer.constraints.avoid.join(', ')}`)
          : null,
      );
    };
    view.cy.getElementById(`n:${client}`).addClass('onpath');
    mount(
      pathInfo,
      servers.length > 1
        ? h('p', { class: 'muted' }, `${servers.length} server instances of ${contract.name}:`)
        : null,
      servers.map(line),
    );
  };

  const computeHighlight = async (name: string): Promise<Highlight | null> => {
    const [domain, cname] = name.split('/');
    const contract = contracts.find((c) => c.domain === domain && c.name === cname);
    if (!contract) return null;
    const users = (r: string) => contract.roles.find((x) => x.name === r)?.users ?? [];
    const inRole = (r: string) =>
      [...nodes.values()].filter(
        (n) =>
          n.kind === 'workload' &&
          n.domain === domain &&
          users(r).includes(n.owner) &&
          n.processors.length > 0,
      );
    const c = inRole('client')[0];
    const servers = inRole('server');
    if (!c || servers.length === 0) return { contract, servers: [] };
    return {
      contract,
      client: c.name,
      servers: await Promise.all(
        servers.map(async (s): Promise<ServerPath> => {
          try {
            const answer = await api((a) =>
              a.path(c.processors[0]!, s.processors[0]!, contract.name, contract.domain),
            );
            return { server: s.name, answer };
          } catch (err) {
            return { server: s.name, error: err };
          }
        }),
      ),
    };
  };

  let pending = 0;
  const refresh = async () => {
    const mine = ++pending;
    try {
      const [t, ns, cs] = await Promise.all([
        api((a) => a.topology()),
        api((a) => a.nodes()),
        api((a) => a.contracts()),
      ]);
      if (mine !== pending) return;
      topo = t;
      nodes = new Map(ns.map((n) => [n.name, n]));
      contracts = cs;
      error.replaceChildren();
      render(t);
      if (select.options.length !== cs.length + 1) {
        const current = select.value;
        mount(
          select,
          h('option', { value: '' }, '— none —'),
          cs.map((c) => h('option', { value: `${c.domain}/${c.name}` }, `${c.name} (${c.domain})`)),
        );
        select.value = current;
      }
      highlight = select.value ? await computeHighlight(select.value) : null;
      applyHighlight();
      if (!overlay.hidden) {
        const shown = overlay.querySelector('strong')?.textContent;
        if (shown && view.cy.getElementById(`n:${shown}`).nonempty()) showOverlay(shown);
        else overlay.hidden = true;
      }
    } catch (err) {
      mount(error, errorBox(err));
    }
  };

  const render = (t: Topology) => {
    const pos = positions(t);
    const els: ElementDefinition[] = [];
    const ownerOf = (name: string) => nodes.get(name)?.owner ?? '—';
    for (const p of t.processors) {
      els.push({
        data: { id: `n:${p.name}`, name: p.name, label: p.name, status: p.status },
        classes: `processor ${p.status}`,
        position: pos.get(p.name)!,
      });
    }
    for (const w of t.workloads) {
      els.push({
        data: { id: `n:${w.name}`, name: w.name, label: w.name, status: w.status, owner: w.owner },
        classes: `workload ${w.status}`,
        position: pos.get(w.name)!,
      });
    }
    for (const l of t.links) {
      els.push({
        data: {
          id: `l:${l.name}`,
          source: `n:${l.a}`,
          target: `n:${l.b}`,
          label: String(l.cost),
          status: l.status,
        },
        classes: l.status === 'down' ? 'link down' : 'link',
      });
    }
    for (const a of t.attachments) {
      if (!t.processors.some((p) => p.name === a.processor)) continue;
      els.push({
        data: { id: `a:${a.node}:${a.processor}`, source: `n:${a.node}`, target: `n:${a.processor}` },
        classes: 'attachment',
      });
    }
    view.update(
      els,
      {
        nodes: {
          columns: ['Name', 'Kind', 'Status', 'Owner', 'Domain', 'Node ID'],
          rows: [
            ...t.processors.map((p) => [
              p.name,
              'processor',
              badge(p.status),
              ownerOf(p.name),
              nodes.get(p.name)?.domain ?? '—',
              p.nodeId ?? '—',
            ]),
            ...t.workloads.map((w) => [w.name, 'workload', badge(w.status), w.owner, w.domain, w.nodeId]),
          ],
        },
        edges: {
          columns: ['Edge', 'Kind', 'From', 'To', 'Cost', 'Status'],
          rows: [
            ...t.links.map((l) => [l.name, 'link', l.a, l.b, String(l.cost), badge(l.status)]),
            ...t.attachments.map((a) => [
              `${a.node}--${a.processor}`,
              'attachment',
              a.node,
              a.processor,
              '—',
              badge('up'),
            ]),
          ],
        },
      },
      { name: 'preset', fit: true, padding: 40 },
    );
  };

  select.addEventListener('change', () => void refresh());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const off = onEvent((e) => {
    if (e.type === 'node' || e.type === 'policy' || e.type === 'hello') {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 100);
    }
  });
  // Last seen moves with heartbeats, which send no event: while a node's details are open,
  // fetch the nodes again every few seconds.
  const seen = setInterval(() => {
    if (overlay.hidden) return;
    void api((a) => a.nodes())
      .then((ns) => {
        nodes = new Map(ns.map((n) => [n.name, n]));
        const shown = overlay.querySelector('strong')?.textContent;
        if (shown && !overlay.hidden) showOverlay(shown);
      })
      .catch(() => undefined);
  }, LAST_SEEN_POLL_MS);
  void refresh();
  return () => {
    off();
    clearTimeout(timer);
    clearInterval(seen);
    view.destroy();
  };
};
