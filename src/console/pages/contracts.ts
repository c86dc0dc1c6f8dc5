import { cli, errorBox, h, hex32, mount, table } from '../dom.js';
import { enc, type Page } from '../router.js';
import { api } from '../session.js';

export const contractsPage: Page = (outlet) => {
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Contracts'),
      h(
        'p',
        { class: 'muted' },
        'Each contract is an edge of a service graph: who may call whom, along which path.',
      ),
    ),
  );
  void (async () => {
    try {
      const contracts = await api((a) => a.contracts());
      outlet.append(
        h(
          'section',
          { class: 'card' },
          table(
            'Contracts',
            ['Contract Name', 'Domain', 'Contract ID', 'Description', 'Mode'],
            contracts.map((c) => [
              h('a', { href: `/contracts/${enc(c.domain)}/${enc(c.name)}` }, c.name),
              c.domain,
              h('code', null, hex32(c.id)),
              c.description || '—',
              c.mode,
            ]),
            'no contracts — apply a fabric file (trellis apply -f fabric.yaml)',
          ),
        ),
        cli('trellis get contracts'),
      );
    } catch (err) {
      outlet.append(errorBox(err));
    }
  })();
};
