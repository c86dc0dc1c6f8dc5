import { DENY_CODE_LIST, DENY_CODES } from '../../deny-codes.js';
import type { DenialNode, DenialView } from '../../model/denial.js';
import { errorBox, h, mount, table } from '../dom.js';
import { onEvent } from '../events.js';
import type { Page } from '../router.js';
import { api } from '../session.js';

/** The time ranges offered; the denials API takes the same durations (`since=15m`). */
const RANGES: [string, string][] = [
  ['', 'any time'],
  ['5m', 'last 5 min'],
  ['1h', 'last hour'],
  ['24h', 'last 24 h'],
  ['7d', 'last 7 days'],
];

/**
 * Refused (and, in audit mode, would-be refused) flows with their reasons. The filters are the
 * denials API's query parameters, so the page and `trellis get denials` show the same rows;
 * repeats of one refusal are grouped by default (a deploy's start-up burst is one row each).
 */
export const denialsPage: Page = (outlet) => {
  const select = (label: string, options: [string, string][]) =>
    h(
      'select',
      { 'aria-label': label, 'data-filter': label },
      options.map(([v, text]) => h('option', { value: v }, text)),
    );
  const domain = select('Domain', [['', 'all domains']]);
  const contract = select('Contract', [['', 'all contracts']]);
  const node = select('Node', [['', 'all nodes']]);
  const reason = select('Reason', [
    ['', 'all reasons'],
    ...DENY_CODE_LIST.map((c): [string, string] => [c, c]),
  ]);
  for (const o of reason.querySelectorAll('option'))
    if (o.value) o.title = DENY_CODES[o.value as keyof typeof DENY_CODES].meaning;
  const range = select('Time range', RANGES);
  const group = h('input', { type: 'checkbox', 'aria-label': 'Group repeats', checked: true });
  const command = h('code', null, 'trellis get denials --group');
  const list = h('section', { class: 'card' });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Denials'),
      h(
        'p',
        { class: 'muted' },
        'Flows the fabric refused, newest first, with the code and reason each hop gave (hover a code for its meaning; docs/refusals.md lists them). TRELLIS_DENY_NO_SERVER: the client connected before any server instance of the contract had registered (usual for a few seconds after a deploy).',
      ),
    ),
    h(
      'div',
      { class: 'filters', role: 'group', 'aria-label': 'Denial filters' },
      [domain, contract, node, reason, range].map((s) =>
        h('label', { class: 'inline' }, `${s.getAttribute('aria-label')} `, s),
      ),
      h('label', { class: 'inline' }, group, ' group repeats'),
    ),
    list,
    h('p', { class: 'cli' }, h('span', null, 'CLI'), command),
  );

  const query = () => {
    const q = new URLSearchParams({ limit: '200' });
    const args: string[] = [];
    const put = (key: string, v: string, flag = key) => {
      if (!v) return;
      q.set(key, v);
      args.push(`--${flag} ${v}`);
    };
    put('domain', domain.value);
    put('contract', contract.value.split('/')[1] ?? '');
    if (contract.value && !domain.value) {
      q.set('domain', contract.value.split('/')[0]!);
      args.unshift(`--domain ${contract.value.split('/')[0]}`);
    }
    put('node', node.value);
    put('reason', reason.value);
    put('since', range.value);
    if (group.checked) {
      q.set('group', 'true');
      args.push('--group');
    }
    command.textContent = ['trellis get denials', ...args].join(' ');
    return q;
  };

  const who = (n: DenialNode | null) =>
    n
      ? h(
          'span',
          { title: n.nodeId },
          n.name,
          n.owner ? h('span', { class: 'muted' }, ` (${n.owner})`) : null,
        )
      : '—';
  // A time of today as a time of day, an older one with its date.
  const time = (iso: string) => {
    const t = new Date(iso);
    return t.toDateString() === new Date().toDateString() ? t.toLocaleTimeString() : t.toLocaleString();
  };
  const when = (d: DenialView) =>
    d.count > 1
      ? h('span', { title: `first ${d.firstAt}, last ${d.at}` }, `${time(d.firstAt)} – ${time(d.at)}`)
      : h('span', { title: d.at }, time(d.at));

  let pending = 0;
  const refresh = async () => {
    const mine = ++pending;
    try {
      const rows = await api((a) => a.denials(query()));
      if (mine !== pending) return;
      mount(
        list,
        table(
          'Denials',
          [
            'When',
            'Count',
            'Kind',
            'Domain',
            'Contract',
            'Role',
            'Source',
            'Destination',
            'Reported by',
            'Code',
            'Reason',
          ],
          rows.map((d) => [
            when(d),
            String(d.count),
            h(
              'span',
              { class: `badge badge-${d.kind === 'deny' ? 'disconnected' : 'unregistered'}` },
              d.kind,
            ),
            d.domain,
            h('span', { title: `contract ID ${d.contractId}` }, d.contract),
            d.role,
            who(d.source),
            who(d.destination),
            d.reportedBy,
            h('code', { title: DENY_CODES[d.code].meaning }, d.code),
            d.reason,
          ]),
          'no denials match — every flow so far was allowed',
        ),
      );
    } catch (err) {
      mount(list, errorBox(err));
    }
  };

  /** The filters' choices: the domains, contracts and nodes the admin may see. */
  const fillChoices = async () => {
    try {
      const [domains, contracts, nodes] = await Promise.all([
        api((a) => a.domains()),
        api((a) => a.contracts()),
        api((a) => a.nodes()),
      ]);
      const keep = (s: HTMLSelectElement, options: [string, string][]) => {
        const current = s.value;
        mount(
          s,
          options.map(([v, text]) => h('option', { value: v }, text)),
        );
        s.value = options.some(([v]) => v === current) ? current : '';
      };
      keep(domain, [['', 'all domains'], ...domains.map((d): [string, string] => [d.name, d.name])]);
      keep(contract, [
        ['', 'all contracts'],
        ...contracts.map((c): [string, string] => [`${c.domain}/${c.name}`, `${c.name} (${c.domain})`]),
      ]);
      keep(node, [
        ['', 'all nodes'],
        ...nodes.map((n): [string, string] => [n.name, `${n.name} (${n.owner})`]),
      ]);
    } catch {
      // The list below shows the error (the same session answers both).
    }
  };

  for (const s of [domain, contract, node, reason, range, group])
    s.addEventListener('change', () => void refresh());
  const timer = setInterval(() => void refresh(), 5000);
  const off = onEvent((e) => {
    if (e.type === 'policy') void refresh();
    if (e.type === 'node') void fillChoices();
  });
  void fillChoices();
  void refresh();
  return () => {
    off();
    clearInterval(timer);
  };
};
