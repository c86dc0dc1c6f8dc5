import { cli, errorBox, h, mount, table } from '../dom.js';
import { onEvent } from '../events.js';
import type { Page } from '../router.js';
import { api } from '../session.js';

interface Denial {
  at: string;
  kind: 'deny' | 'would-deny';
  domain: string;
  contract: string;
  role: string;
  src: string | null;
  dst: string | null;
  reason: string;
  reportedBy?: string;
}

/** Recent refused (and, in audit mode, would-be refused) flows with their reasons. */
export const denialsPage: Page = (outlet) => {
  const list = h('section', { class: 'card' });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Denials'),
      h('p', { class: 'muted' }, 'Flows the fabric refused, newest first, with the reason each hop gave.'),
    ),
    list,
    cli('trellis get denials'),
  );
  const refresh = async () => {
    try {
      const rows = await api((a) => a.request<Denial[]>('GET', '/api/v1/denials?limit=200'));
      mount(
        list,
        table(
          'Denials',
          ['When', 'Kind', 'Domain', 'Contract', 'Role', 'Source', 'Destination', 'Reported by', 'Reason'],
          rows.map((d) => [
            new Date(d.at).toLocaleTimeString(),
            h(
              'span',
              { class: `badge badge-${d.kind === 'deny' ? 'disconnected' : 'unregistered'}` },
              d.kind,
            ),
            d.domain,
            d.contract,
            d.role,
            d.src ?? '—',
            d.dst ?? '—',
            d.reportedBy ?? '—',
            d.reason,
          ]),
          'no denials — every flow so far was allowed',
        ),
      );
    } catch (err) {
      mount(list, errorBox(err));
    }
  };
  const timer = setInterval(() => void refresh(), 5000);
  const off = onEvent((e) => {
    if (e.type === 'policy') void refresh();
  });
  void refresh();
  return () => {
    off();
    clearInterval(timer);
  };
};
