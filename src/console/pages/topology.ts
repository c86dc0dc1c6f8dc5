import type { ElementDefinition, StylesheetJson } from 'cytoscape';
import type { PathAnswer, Topology } from '../../api-client/client.js';
import type { Contract, FabricNode } from '../../model/index.js';
import { ago, badge, cli, errorBox, h, mount } from '../dom.js';
import { onEvent } from '../events.js';
import { COLORS, graphView } from '../graph.js';
import type { Page } from '../router.js';
import { api } from '../session.js';

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

/**
 * The processors' order around the ellipse with the fewest crossing links (tried exhaustively
 * for a small fabric; a large one keeps the API's order).
 */
function circleOrder(names: string[], links: Topology['links']): string[] {
  if (names.length > 7) return names;
  let best = names;
  let bestCrossings = Number.POSITIVE_INFINITY;
  const permute = (done: string[], rest: string[]) => {
    if (rest.length === 0) {
      const at = new Map(done.map((n, i) => [n, i]));
      const chords: [number, number][] = [];
      for (const l of links) {
        const a = at.get(l.a);
        const b = at.get(l.b);
        if (a !== undefined && b !== undefined) chords.push(a < b ? [a, b] : [b, a]);
      }
      // Two chords of a circle cross when exactly one end of one lies strictly inside the other.
      const inside = (x: number, [a, b]: [number, number]) => a < x && x < b;
      let crossings = 0;
      for (const [i, p] of chords.entries()) {
        for (const q of chords.slice(i + 1)) {
          if (new Set([...p, ...q]).size === 4 && inside(q[0], p) !== inside(q[1], p)) crossings++;
        }
      }
      if (crossings < bestCrossings) {
        bestCrossings = crossings;
        best = done;
      }
      return;
    }
    // The first processor stays first: rotations of one order are the same drawing.
    for (const [i, n] of rest.entries()) permute([...done, n], [...rest.slice(0, i), ...rest.slice(i + 1)]);
  };
  permute(names.slice(0, 1), names.slice(1));
  return best;
}

/** Processors on an ellipse; each workload fanned out beyond its first processor. */
function positions(t: Topology): Map<string, { x: number; y: number }> {
  const pos = new Map<string, { x: number; y: number }>();
  const procs = circleOrder(
    t.processors.map((p) => p.name),
    t.links,
  );
  procs.forEach((p, i) => {
    const a = (2 * Math.PI * i) / Math.max(procs.length, 1) - Math.PI / 2;
    pos.set(p, { x: 300 * Math.cos(a), y: 150 * Math.sin(a) });
  });
  const byProc = new Map<string, string[]>();
  const loose: string[] = [];
  for (const w of t.workloads) {
    const p = w.processors.find((x) => pos.has(x));
    if (p) byProc.set(p, [...(byProc.get(p) ?? []), w.name]);
    else loose.push(w.name);
  }
  for (const [p, names] of byProc) {
    const c = pos.get(p)!;
    const base = Math.atan2(c.y, c.x || 0.001);
    names.forEach((n, i) => {
      // Wide enough apart that two VM labels (~50 px each) never overlap.
      const a = base + (i - (names.length - 1) / 2) * 0.8;
      pos.set(n, { x: c.x + 125 * Math.cos(a), y: c.y + 115 * Math.sin(a) });
    });
  }
  for (const [i, n] of loose.entries()) pos.set(n, { x: -200 + i * 70, y: 320 });
  return pos;
}

interface Highlight {
  contract: Contract;
  answer?: PathAnswer;
  client?: string;
  server?: string;
  error?: unknown;
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
      ['Last seen', n ? ago(n.lastSeen) : '—'],
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
    const { answer, client, server, contract } = highlight;
    if (highlight.error) {
      mount(pathInfo, errorBox(highlight.error));
      return;
    }
    if (!answer || !client || !server) {
      mount(
        pathInfo,
        h('p', { class: 'muted' }, `No registered client and server nodes for ${contract.name} yet.`),
      );
      return;
    }
    const hops = answer.path;
    hops.forEach((p, i) => {
      view.cy.getElementById(`n:${p}`).addClass('onpath');
      const next = hops[i + 1];
      if (next)
        view.cy.getElementById(`l:${p < next ? `${p}--${next}` : `${next}--${p}`}`).addClass('onpath');
    });
    for (const t of answer.constraints.waypoints) view.cy.getElementById(`n:${t}`).addClass('transit');
    view.cy.getElementById(`n:${client}`).addClass('onpath');
    view.cy.getElementById(`n:${server}`).addClass('onpath');
    view.cy.getElementById(`a:${client}:${hops[0]}`).addClass('onpath');
    view.cy.getElementById(`a:${server}:${hops[hops.length - 1]}`).addClass('onpath');
    mount(
      pathInfo,
      h(
        'p',
        null,
        h('strong', null, contract.name),
        ': ',
        [client, ...hops, server].join(' → '),
        h('span', { class: 'muted' }, ` · cost ${answer.cost}`),
        answer.constraints.waypoints.length
          ? h('span', { class: 'tag tag-transit' }, `transit ${answer.constraints.waypoints.join(', ')}`)
          : null,
        answer.constraints.avoid.length
          ? h('span', { class: 'tag' }, `avoid ${answer.constraints.avoid.join(', ')}`)
          : null,
      ),
    );
  };

  const computeHighlight = async (name: string): Promise<Highlight | null> => {
    const [domain, cname] = name.split('/');
    const contract = contracts.find((c) => c.domain === domain && c.name === cname);
    if (!contract) return null;
    const users = (r: string) => contract.roles.find((x) => x.name === r)?.users ?? [];
    const pick = (r: string) =>
      [...nodes.values()].find(
        (n) =>
          n.kind === 'workload' &&
          n.domain === domain &&
          users(r).includes(n.owner) &&
          n.processors.length > 0,
      );
    const c = pick('client');
    const s = pick('server');
    if (!c || !s) return { contract };
    try {
      const answer = await api((a) =>
        a.path(c.processors[0]!, s.processors[0]!, contract.name, contract.domain),
      );
      return { contract, answer, client: c.name, server: s.name };
    } catch (err) {
      return { contract, client: c.name, server: s.name, error: err };
    }
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
  void refresh();
  return () => {
    off();
    clearTimeout(timer);
    view.destroy();
  };
};
