import { ApiError } from '../../api-client/client.js';
import type { Contract, ResourceUser, Role } from '../../model/index.js';
import { cli, errorBox, h, hex32, mount } from '../dom.js';
import { clearDraft, getDraft, setDraft } from '../drafts.js';
import { enc, type Page } from '../router.js';
import { api } from '../session.js';

/**
 * The seed's Role page: User Access List and Path Params. Changes (users added or removed,
 * path params SET in the editor) stay a draft until SUBMIT sends them in one PUT.
 */
export const rolePage: Page = (outlet, { domain, name, role }) => {
  const d = domain!;
  const n = name!;
  const r = role!;
  const base = `/contracts/${enc(d)}/${enc(n)}`;
  const status = h('div', { 'aria-live': 'polite' });
  const body = h('div');
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h(
        'p',
        { class: 'crumbs' },
        h('a', { href: '/contracts' }, 'Contracts'),
        ' / ',
        h('a', { href: base }, n),
        ' / ',
        r,
      ),
      h('h1', null, `${n} · ${r} role`),
    ),
    status,
    body,
  );
  let contract: Contract;
  let saved: Role;
  let owners: ResourceUser[] = [];

  const render = () => {
    const draft = getDraft(d, n, r);
    const users = draft?.users ?? saved.users;
    const params = draft?.pathParams ?? saved.pathParams;
    const dirty = draft !== undefined;
    const addSelect = h(
      'select',
      { 'aria-label': 'Host owner to add' },
      owners.filter((o) => !users.includes(o.name)).map((o) => h('option', { value: o.name }, o.name)),
    );
    const submit = h(
      'button',
      { class: 'btn btn-primary', type: 'button', disabled: !dirty, onclick: () => void doSubmit(submit) },
      'SUBMIT',
    );
    mount(
      body,
      h(
        'section',
        { class: 'card' },
        h(
          'dl',
          { class: 'props' },
          h('dt', null, 'Contract'),
          h('dd', null, h('a', { href: base }, n), h('span', { class: 'muted' }, ` · ${hex32(contract.id)}`)),
          h('dt', null, 'Domain'),
          h('dd', null, d),
          h('dt', null, 'Role Name'),
          h('dd', null, r),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', null, 'User Access List'),
        h('p', { class: 'muted' }, `Host owners whose workload nodes may take the ${r} role of ${n}.`),
        h(
          'ul',
          { class: 'chips', 'aria-label': 'User Access List' },
          users.length === 0 ? h('li', { class: 'muted' }, 'nobody — the fabric denies by default') : null,
          users.map((u) =>
            h(
              'li',
              { class: 'chip' },
              u,
              h(
                'button',
                {
                  class: 'btn-icon',
                  type: 'button',
                  'aria-label': `Remove ${u}`,
                  onclick: () => {
                    setDraft(d, n, r, { users: users.filter((x) => x !== u) });
                    render();
                  },
                },
                '✕',
              ),
            ),
          ),
        ),
        addSelect.options.length
          ? h(
              'div',
              { class: 'inline-form' },
              addSelect,
              h(
                'button',
                {
                  class: 'btn',
                  type: 'button',
                  onclick: () => {
                    setDraft(d, n, r, { users: [...users, addSelect.value] });
                    render();
                  },
                },
                'Add',
              ),
            )
          : null,
      ),
      h(
        'section',
        { class: 'card' },
        h(
          'div',
          { class: 'row-head' },
          h('h2', null, 'Path Params'),
          h(
            'a',
            { class: 'btn', href: `${base}/roles/${r}/edit`, 'data-testid': 'edit-path-params' },
            'EDIT',
          ),
        ),
        h('pre', { class: 'json', 'data-testid': 'path-params' }, JSON.stringify(params, null, 2)),
      ),
      h(
        'div',
        { class: 'actions' },
        dirty
          ? h('span', { class: 'tag tag-transit' }, 'unsaved changes')
          : h('span', { class: 'muted' }, 'no unsaved changes'),
        dirty
          ? h(
              'button',
              {
                class: 'btn btn-ghost',
                type: 'button',
                onclick: () => {
                  clearDraft(d, n, r);
                  status.replaceChildren();
                  render();
                },
              },
              'Discard',
            )
          : null,
        submit,
      ),
      cli(`trellis edit role ${n} ${r} --domain ${d} --path-params '${JSON.stringify(params)}'`),
    );
  };

  const doSubmit = async (btn: HTMLButtonElement) => {
    const draft = getDraft(d, n, r);
    if (!draft) return;
    btn.disabled = true;
    status.replaceChildren();
    try {
      const { warnings, ...written } = await api((a) => a.setRole(d, n, r as 'client' | 'server', draft));
      contract = written;
      saved = contract.roles.find((x) => x.name === r)!;
      clearDraft(d, n, r);
      mount(
        status,
        h(
          'div',
          { class: 'alert alert-ok', role: 'status' },
          `Saved: the ${r} role of ${n} is updated; new flows follow it.`,
        ),
        // Saved, but today's topology routes none of some flows: say which, and why.
        (warnings ?? []).map((w) => h('div', { class: 'alert alert-warn', role: 'status' }, 'Warning: ', w)),
      );
      render();
    } catch (err) {
      mount(status, errorBox(err instanceof ApiError ? err : new Error(String(err))));
      btn.disabled = false;
    }
  };

  void (async () => {
    try {
      const [c, users] = await Promise.all([api((a) => a.contract(d, n)), api((a) => a.resourceUsers(d))]);
      contract = c;
      const found = c.roles.find((x) => x.name === r);
      if (!found) throw new Error(`no role "${r}": a contract has roles "client" and "server"`);
      saved = found;
      owners = users.filter((u) => u.kind === 'hostOwner');
      render();
    } catch (err) {
      mount(body, errorBox(err));
    }
  })();
};
