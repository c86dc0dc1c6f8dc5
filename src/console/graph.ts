import cytoscape, {
  type Core,
  type ElementDefinition,
  type LayoutOptions,
  type StylesheetJson,
} from 'cytoscape';
import { type Child, h, mount, table } from './dom.js';

export interface GraphTables {
  nodes: { columns: string[]; rows: Child[][] };
  edges: { columns: string[]; rows: Child[][] };
}

export interface GraphView {
  el: HTMLElement;
  cy: Core;
  /** Replaces the graph's elements (keeping positions of nodes that stay) and its tables. */
  update(elements: ElementDefinition[], tables: GraphTables, layout: LayoutOptions): void;
  destroy(): void;
}

/**
 * A cytoscape graph with a **Table** toggle listing the same nodes and edges: the accessible
 * view of every graph, and what the browser tests read.
 */
export function graphView(opts: {
  label: string;
  style: StylesheetJson;
  toolbar?: Child;
  overlay?: HTMLElement;
}): GraphView {
  const canvas = h('div', { class: 'graph-canvas', 'data-testid': 'graph' });
  const tables = h('div', { class: 'graph-tables', hidden: true });
  const toggle = h('button', { class: 'btn btn-ghost', type: 'button', 'aria-pressed': 'false' }, 'Table');
  const el = h(
    'section',
    { class: 'card graph-card', 'aria-label': opts.label },
    h('div', { class: 'graph-toolbar' }, opts.toolbar ?? null, h('span', { class: 'spacer' }), toggle),
    h('div', { class: 'graph-body' }, canvas, opts.overlay ?? null),
    tables,
  );
  toggle.addEventListener('click', () => {
    const show = tables.hidden;
    tables.hidden = !show;
    canvas.parentElement!.hidden = show;
    toggle.setAttribute('aria-pressed', String(show));
    toggle.textContent = show ? 'Graph' : 'Table';
    if (!show) cy.resize();
  });
  const cy = cytoscape({
    container: canvas,
    style: opts.style,
    minZoom: 0.3,
    maxZoom: 2.5,
    wheelSensitivity: 0.3,
    boxSelectionEnabled: false,
    // The container is not in the document yet: the default grid layout would measure nothing.
    layout: { name: 'preset' },
  });
  // The browser tests (and devtools) read node data from the element: `el.cy.$('#…').data()`.
  Object.assign(canvas, { cy });
  let lastIds = '';
  return {
    el,
    cy,
    update(elements, t, layout) {
      const ids = elements
        .map((e) => e.data.id)
        .sort()
        .join(',');
      cy.batch(() => {
        for (const e of elements) {
          const existing = cy.getElementById(e.data.id!);
          if (existing.nonempty()) {
            existing.data(e.data);
            existing.classes(e.classes ?? '');
          } else cy.add(e);
        }
        const keep = new Set(elements.map((e) => e.data.id));
        cy.elements()
          .filter((x) => !keep.has(x.id()))
          .remove();
      });
      // Only a changed set of elements is laid out again: a status change must not move nodes.
      if (ids !== lastIds) {
        cy.resize();
        for (const e of elements) if (e.position) cy.getElementById(e.data.id!).position(e.position);
        cy.layout(layout).run();
        cy.fit(undefined, 40);
        lastIds = ids;
      }
      mount(
        tables,
        h('h3', null, 'Nodes'),
        table(`${opts.label} nodes`, t.nodes.columns, t.nodes.rows),
        h('h3', null, 'Edges'),
        table(`${opts.label} edges`, t.edges.columns, t.edges.rows),
      );
    },
    destroy() {
      cy.destroy();
    },
  };
}

/** Colours shared by the graphs and the stylesheet (seed: green processors, red when disconnected). */
export const COLORS = {
  processor: '#2e9e5b',
  workload: '#3b7dd8',
  down: '#d64545',
  /** A node that holds its stream but stopped answering. */
  unreachable: '#e8590c',
  idle: '#9aa5b1',
  edge: '#9aa5b1',
  path: '#f08c00',
  text: '#1f2933',
};
