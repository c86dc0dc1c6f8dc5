import type { FabricNode } from '../../model/index.js';
import { ago, badge, cli, errorBox, h, mount, table } from '../dom.js';
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
            ago(n.lastSeen),
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
  void refresh();
  return off;
};
