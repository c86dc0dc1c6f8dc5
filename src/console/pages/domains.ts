import type { Contract, ResourceUser } from '../../model/index.js';
import { cli, errorBox, h, mount, table } from '../dom.js';
import { enc, type Page } from '../router.js';
import { api } from '../session.js';

export const domainsPage: Page = (outlet) => {
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Domains'),
      h('p', { class: 'muted' }, 'Each application lives in its own domain.'),
    ),
  );
  void (async () => {
    try {
      const [domains, users, contracts] = await Promise.all([
        api((a) => a.domains()),
        api((a) => a.resourceUsers()),
        api((a) => a.contracts()),
      ]);
      outlet.append(
        h(
          'section',
          { class: 'card' },
          table(
            'Domains',
            ['Domain Name', 'Description', 'Host Owners', 'Switch Owners', 'Contracts'],
            domains.map((d) => [
              h('a', { href: `/domains/${enc(d.name)}` }, d.name),
              d.description || '—',
              String(users.filter((u) => u.domain === d.name && u.kind === 'hostOwner').length),
              String(users.filter((u) => u.domain === d.name && u.kind === 'switchOwner').length),
              String(contracts.filter((c) => c.domain === d.name).length),
            ]),
          ),
        ),
        cli('trellis get domains'),
      );
    } catch (err) {
      outlet.append(errorBox(err));
    }
  })();
};

export const domainPage: Page = (outlet, { domain }) => {
  const d = domain!;
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('p', { class: 'crumbs' }, h('a', { href: '/domains' }, 'Domains'), ' / ', d),
      h('h1', null, d),
    ),
  );
  void (async () => {
    try {
      const [info, users, contracts] = await Promise.all([
        api((a) => a.domain(d)),
        api((a) => a.resourceUsers(d)),
        api((a) => a.contracts(d)),
      ]);
      outlet.append(
        h(
          'section',
          { class: 'card' },
          h(
            'dl',
            { class: 'props' },
            h('dt', null, 'Domain Name'),
            h('dd', null, info.name),
            h('dt', null, 'Description'),
            h('dd', null, info.description || '—'),
          ),
        ),
        h('section', { class: 'card' }, h('h2', null, 'Resource users'), usersTable(users)),
        h('section', { class: 'card' }, h('h2', null, 'Contracts'), contractsTable(contracts)),
        h(
          'div',
          { class: 'actions' },
          h('a', { class: 'btn btn-primary', href: `/domains/${enc(d)}/topology` }, 'Domain Topology'),
        ),
        cli(`trellis get resource-users --domain ${d}`),
      );
    } catch (err) {
      outlet.append(errorBox(err));
    }
  })();
};

function usersTable(users: ResourceUser[]): HTMLElement {
  return table(
    'Resource users',
    ['Name', 'Kind'],
    users.map((u) => [u.name, u.kind]),
  );
}

function contractsTable(contracts: Contract[]): HTMLElement {
  return table(
    'Contracts',
    ['Contract Name', 'Description'],
    contracts.map((c) => [
      h('a', { href: `/contracts/${enc(c.domain)}/${enc(c.name)}` }, c.name),
      c.description || '—',
    ]),
  );
}
