import { cli, errorBox, h, hex32, mount, table } from '../dom.js';
import { enc, type Page } from '../router.js';
import { api } from '../session.js';

export const contractPage: Page = (outlet, { domain, name }) => {
  const d = domain!;
  const n = name!;
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('p', { class: 'crumbs' }, h('a', { href: '/contracts' }, 'Contracts'), ' / ', d, ' / ', n),
      h('h1', null, n),
    ),
  );
  void (async () => {
    try {
      const c = await api((a) => a.contract(d, n));
      outlet.append(
        h(
          'section',
          { class: 'card' },
          h(
            'dl',
            { class: 'props' },
            h('dt', null, 'Contract Name'),
            h('dd', null, c.name),
            h('dt', null, 'Domain'),
            h('dd', null, h('a', { href: `/domains/${enc(c.domain)}` }, c.domain)),
            h('dt', null, 'Contract ID'),
            h('dd', null, h('code', null, hex32(c.id)), h('span', { class: 'muted' }, ` (${c.id})`)),
            h('dt', null, 'Description'),
            h('dd', null, c.description || '—'),
            h('dt', null, 'Mode'),
            h('dd', null, c.mode),
          ),
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Roles'),
          table(
            'Roles',
            ['Role Name', 'User Access List', 'Path Params'],
            c.roles.map((r) => [
              h('a', { href: `/contracts/${enc(d)}/${enc(n)}/roles/${r.name}` }, r.name),
              r.users.join(', ') || '—',
              h('code', null, JSON.stringify(r.pathParams)),
            ]),
          ),
        ),
        cli(`trellis describe contract ${n} --domain ${d}`),
      );
    } catch (err) {
      outlet.append(errorBox(err));
    }
  })();
};
