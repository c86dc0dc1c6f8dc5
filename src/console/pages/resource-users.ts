import type { Domain, ResourceUser } from '../../model/index.js';
import { cli, errorBox, h, mount, table } from '../dom.js';
import type { Page } from '../router.js';
import { api } from '../session.js';

const enc = encodeURIComponent;

/** Host owners (one per microservice) and switch owners (processors), of every visible domain. */
export const resourceUsersPage: Page = (outlet) => {
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('section', { class: 'card' });
  const form = h('form', { class: 'card inline-form', 'aria-label': 'New resource user' });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Resource Users'),
      h('p', { class: 'muted' }, 'Host owners own workload nodes; switch owners own processors.'),
    ),
    status,
    list,
    form,
    cli('trellis get resource-users'),
  );
  const ok = (msg: string) => mount(status, h('div', { class: 'alert alert-ok', role: 'status' }, msg));
  const run = async (fn: () => Promise<unknown>, msg: string) => {
    status.replaceChildren();
    try {
      await fn();
      ok(msg);
      await refresh();
    } catch (err) {
      mount(status, errorBox(err));
    }
  };
  const resetPassword = (u: ResourceUser) => {
    const input = h('input', {
      type: 'password',
      placeholder: `new password for ${u.name}`,
      'aria-label': `New password for ${u.name}`,
      minlength: 8,
    });
    const f = h(
      'form',
      { class: 'alert inline-form' },
      input,
      h('button', { class: 'btn btn-primary', type: 'submit' }, 'Reset password'),
      h(
        'button',
        { class: 'btn btn-ghost', type: 'button', onclick: () => status.replaceChildren() },
        'Cancel',
      ),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void run(
        () =>
          api((a) =>
            a.request('PUT', `/api/v1/domains/${enc(u.domain)}/resource-users/${enc(u.name)}`, {
              password: input.value,
            }),
          ),
        `Password of ${u.domain}/${u.name} reset; its sessions ended.`,
      );
    });
    mount(status, f);
    input.focus();
  };
  const refresh = async () => {
    try {
      const [users, domains] = await Promise.all([api((a) => a.resourceUsers()), api((a) => a.domains())]);
      mount(
        list,
        table(
          'Resource Users',
          ['Name', 'Domain', 'Kind', ''],
          users.map((u) => [
            h('strong', null, u.name),
            u.domain,
            h('span', { class: `tag tag-${u.kind}` }, u.kind),
            h(
              'span',
              { class: 'row-actions' },
              h(
                'button',
                { class: 'btn btn-ghost btn-small', type: 'button', onclick: () => resetPassword(u) },
                'Reset password',
              ),
              h(
                'button',
                {
                  class: 'btn-delete',
                  type: 'button',
                  'aria-label': `Delete ${u.name}`,
                  onclick: () =>
                    void run(
                      () =>
                        api((a) =>
                          a.delete(`/api/v1/domains/${enc(u.domain)}/resource-users/${enc(u.name)}`),
                        ),
                      `Deleted ${u.domain}/${u.name}.`,
                    ),
                },
                '✕',
              ),
            ),
          ]),
        ),
      );
      renderForm(domains);
    } catch (err) {
      mount(list, errorBox(err));
    }
  };
  const renderForm = (domains: Domain[]) => {
    const domain = h(
      'select',
      { 'aria-label': 'Domain' },
      domains.map((d) => h('option', { value: d.name }, d.name)),
    );
    const name = h('input', { placeholder: 'name', 'aria-label': 'Name', required: true });
    const kind = h(
      'select',
      { 'aria-label': 'Kind' },
      h('option', { value: 'hostOwner' }, 'hostOwner'),
      h('option', { value: 'switchOwner' }, 'switchOwner'),
    );
    const password = h('input', {
      type: 'password',
      placeholder: 'password',
      'aria-label': 'Password',
      required: true,
    });
    mount(
      form,
      h('strong', null, 'New resource user'),
      domain,
      name,
      kind,
      password,
      h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create'),
    );
    form.onsubmit = (ev) => {
      ev.preventDefault();
      void run(
        () =>
          api((a) =>
            a.request('POST', `/api/v1/domains/${enc(domain.value)}/resource-users`, {
              name: name.value.trim(),
              kind: kind.value,
              password: password.value,
            }),
          ),
        `Created ${domain.value}/${name.value.trim()}.`,
      );
    };
  };
  void refresh();
};
