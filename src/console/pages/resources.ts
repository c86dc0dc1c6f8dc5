import type { FabricNode } from '../../model/index.js';
import { badge, cli, errorBox, h, liveAgo, mount } from '../dom.js';
import { onEvent } from '../events.js';
import { KeyedTable } from '../keyed-table.js';
import type { Page } from '../router.js';
import { api } from '../session.js';

/** Registered nodes with their Node ID; the red ✕ deletes a disconnected one. */
export const resourcesPage: Page = (outlet) => {
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('section', { class: 'card' });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Resources'),
      h(
        'p',
        { class: 'muted' },
        'Registered processors and workload nodes. Only a disconnected node can be deleted.',
      ),
    ),
    status,
    list,
    cli('trellis get nodes · trellis delete node NAME'),
  );
  const remove = async (name: string) => {
    status.replaceChildren();
    try {
      await api((a) => a.delete(`/api/v1/nodes/${encodeURIComponent(name)}`));
      mount(status, h('div', { class: 'alert alert-ok', role: 'status' }, `Deleted node ${name}.`));
      await refresh();
    } catch (err) {
      mount(status, errorBox(err));
    }
  };
  // The table is fetched again every few seconds and on every node event, so a user's click
  // can fall while it refreshes: it is updated in place (KeyedTable) with each node's ✕ kept,
  // and an answer older than the last one shown is dropped (a CI run lost a click to a rebuild).
  const buttons = new Map<string, HTMLButtonElement>();
  const deleteButton = (n: FabricNode): HTMLButtonElement => {
    let button = buttons.get(n.name);
    if (!button) {
      button = h(
        'button',
        { type: 'button', 'aria-label': `Delete ${n.name}`, onclick: () => void remove(n.name) },
        '✕',
      );
      buttons.set(n.name, button);
    }
    button.className = `btn-delete${n.status === 'connected' ? ' connected' : ''}`;
    button.title = n.status === 'connected' ? 'connected: stop its agent first' : `delete ${n.name}`;
    return button;
  };
  const view = new KeyedTable<FabricNode>(
    'Resources',
    ['Name', 'Kind', 'Node ID', 'Owner', 'Domain', 'Status', 'Last seen', ''],
    (n) => n.name,
    (n) => [
      h('strong', null, n.name),
      n.kind,
      h('code', null, n.nodeId),
      n.owner,
      n.domain,
      badge(n.status),
      liveAgo(n.lastSeen),
      deleteButton(n),
    ],
    'no registered nodes — processors and agents register when they start',
  );
  let asked = 0;
  let shown = 0;
  const refresh = async () => {
    const mine = ++asked;
    try {
      const nodes = await api((a) => a.nodes());
      if (mine < shown) return;
      shown = mine;
      for (const name of buttons.keys()) if (!nodes.some((n) => n.name === name)) buttons.delete(name);
      view.show(nodes);
      if (view.element.parentNode !== list) mount(list, view.element);
    } catch (err) {
      mount(list, errorBox(err));
    }
  };
  const off = onEvent((e) => {
    if (e.type === 'node' || e.type === 'hello') void refresh();
  });
  // lastSeen moves with every heartbeat, which sends no event: fetch the nodes again every
  // few seconds so a live node's Last seen stays seconds old without a reload.
  const timer = setInterval(() => void refresh(), LAST_SEEN_POLL_MS);
  void refresh();
  return () => {
    off();
    clearInterval(timer);
  };
};

/** Nodes heartbeat every 2–4 s; a 3 s fetch shows each one within a few seconds. */
export const LAST_SEEN_POLL_MS = 3000;
