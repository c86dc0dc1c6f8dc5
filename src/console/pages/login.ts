import { errorBox, h, mount } from '../dom.js';
import type { Page } from '../router.js';
import { navigate } from '../router.js';
import { login, takeFlash } from '../session.js';

export const loginPage: Page = (root) => {
  const flash = takeFlash();
  const error = h('div', { 'aria-live': 'polite' });
  const username = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    autofocus: true,
  });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const domain = h('input', { name: 'domain', placeholder: 'leave empty for admin users' });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Log in');
  const form = h(
    'form',
    { class: 'login-card', 'aria-label': 'Log in' },
    h('div', { class: 'login-brand' }, h('span', { class: 'logo' }), 'Trellis'),
    h('p', { class: 'muted' }, 'Orchestrator console — log in with an admin user.'),
    flash ? h('div', { class: 'alert alert-info', role: 'status' }, flash) : null,
    error,
    h('label', null, 'Username', username),
    h('label', null, 'Password', password),
    h('label', null, 'Domain ', h('small', { class: 'muted' }, '(optional)'), domain),
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.replaceChildren();
    try {
      await login(username.value.trim(), password.value, domain.value.trim() || undefined);
      const next = new URLSearchParams(location.search).get('next');
      navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/topology', true);
    } catch (err) {
      mount(error, errorBox(err));
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  mount(root, h('div', { class: 'login-page' }, form));
};
