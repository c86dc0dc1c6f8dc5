import type { FabricNode } from '../../model/index.js';
import { badge, cli, errorBox, h, liveAgo, mount, table } from '../dom.js';
import { onEvent } from '../events.js';
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
  const remove = async (n: FabricNode) => {
    status.replaceChildren();
    try {
      await api((a) => a.delete(`/api/v1/nodes/${encodeURIComponent(n.name)}`));
      mount(status, h('div', { class: 'alert alert-ok', role: 'status' }, `Deleted node ${n.name}.`));
      await refresh();
    } catch (err) {
      mount(status, errorBox(err));
    }
  };
  const refresh = async () => {
    try {
      const nodes = await api((a) => a.nodes());
      mount(
        list,
        table(
          'Resources',
          ['Name', 'Kind', 'Node ID', 'Owner', 'Domain', 'Status', 'Last seen', ''],
          nodes.map((n) => [
            h('strong', null, n.name),
            n.kind,
            h('code', null, n.nodeId),
            n.owner,
            n.domain,
            badge(n.status),
            liveAgo(n.lastSeen),
            h(
              'button',
              {
                class: `btn-delete${n.status === 'connected' ? ' connected' : ''}`,
                type: 'button',
                'aria-label': `Delete ${n.name}`,
                title: n.status === 'connected' ? 'connected: stop its agent first' : `delete ${n.name}`,
                onclick: () => void remove(n),
              },
              '✕',
            ),
          ]),
          'no registered nodes — processors and agents register when they start',
        ),
      );
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
