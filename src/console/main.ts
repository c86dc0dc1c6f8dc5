import './styles.css';
import { h, mount } from './dom.js';
import { onStreamStatus, startEvents, stopEvents } from './events.js';
import { contractPage } from './pages/contract.js';
import { contractsPage } from './pages/contracts.js';
import { denialsPage } from './pages/denials.js';
import { domainTopologyPage } from './pages/domain-topology.js';
import { domainPage, domainsPage } from './pages/domains.js';
import { flowsPage } from './pages/flows.js';
import { loginPage } from './pages/login.js';
import { pathParamsEditorPage } from './pages/path-params-editor.js';
import { resourceUsersPage } from './pages/resource-users.js';
import { resourcesPage } from './pages/resources.js';
import { rolePage } from './pages/role.js';
import { topologyPage } from './pages/topology.js';
import { addRoute, match, navigate, onNavigate } from './router.js';
import { currentSession, logout, whenExpired } from './session.js';

const NAV: [path: string, label: string, icon: string][] = [
  ['/topology', 'Topology', '◉'],
  ['/domains', 'Domains', '▦'],
  ['/resource-users', 'Resource Users', '☺'],
  ['/contracts', 'Contracts', '⇄'],
  ['/resources', 'Resources', '▤'],
  ['/flows', 'Flows', '≋'],
  ['/denials', 'Denials', '⊘'],
];

addRoute('/topology', '/topology', topologyPage);
addRoute('/domains', '/domains', domainsPage);
addRoute('/domains/:domain', '/domains', domainPage);
addRoute('/domains/:domain/topology', '/domains', domainTopologyPage);
addRoute('/resource-users', '/resource-users', resourceUsersPage);
addRoute('/contracts', '/contracts', contractsPage);
addRoute('/contracts/:domain/:name', '/contracts', contractPage);
addRoute('/contracts/:domain/:name/roles/:role', '/contracts', rolePage);
addRoute('/contracts/:domain/:name/roles/:role/edit', '/contracts', pathParamsEditorPage);
addRoute('/resources', '/resources', resourcesPage);
addRoute('/flows', '/flows', flowsPage);
addRoute('/flows/:processor', '/flows', flowsPage);
addRoute('/denials', '/denials', denialsPage);

const root = document.getElementById('app')!;
let cleanup: (() => void) | undefined;
let shell: { outlet: HTMLElement; nav: HTMLElement } | null = null;

function buildShell(): { outlet: HTMLElement; nav: HTMLElement } {
  const s = currentSession()!;
  const live = h('span', { class: 'live', title: 'event stream' }, 'offline');
  onStreamStatus((on) => {
    live.textContent = on ? 'live' : 'offline';
    live.classList.toggle('on', on);
  });
  const nav = h(
    'nav',
    { class: 'sidenav', 'aria-label': 'Main' },
    h('a', { class: 'brand', href: '/topology' }, h('span', { class: 'logo' }), 'Trellis'),
    h(
      'ul',
      null,
      NAV.map(([path, label, icon]) =>
        h('li', null, h('a', { href: path, 'data-nav': path }, h('span', { class: 'icon' }, icon), label)),
      ),
    ),
    h('div', { class: 'nav-foot' }, 'service interconnection fabric'),
  );
  const outlet = h('main', { class: 'content', id: 'main' });
  mount(
    root,
    h(
      'div',
      { class: 'layout' },
      nav,
      h(
        'div',
        { class: 'page' },
        h(
          'header',
          { class: 'topbar' },
          h('span', { class: 'topbar-title' }, 'Orchestrator'),
          h('span', { class: 'spacer' }),
          live,
          h(
            'span',
            { class: 'user' },
            s.username,
            h('small', null, s.role === 'systemAdmin' ? 'systemAdmin' : `domainAdmin · ${s.domain}`),
          ),
          h(
            'button',
            {
              class: 'btn btn-ghost',
              type: 'button',
              onclick: () => {
                logout('You are logged out.');
                render();
              },
            },
            'Log out',
          ),
        ),
        outlet,
      ),
    ),
  );
  startEvents();
  return { outlet, nav };
}

function render(): void {
  cleanup?.();
  cleanup = undefined;
  const path = location.pathname;
  if (!currentSession()) {
    shell = null;
    stopEvents();
    if (path !== '/login')
      history.replaceState(null, '', `/login${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}`);
    const r = loginPage(root, {});
    cleanup = r || undefined;
    return;
  }
  if (path === '/' || path === '/login') {
    navigate('/topology', true);
    return;
  }
  shell ??= buildShell();
  const m = match(path);
  for (const a of shell.nav.querySelectorAll('a[data-nav]')) {
    const on = m?.nav === a.getAttribute('data-nav');
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  shell.outlet.replaceChildren();
  if (!m) {
    mount(shell.outlet, h('h1', null, 'Not found'), h('p', null, `No page at ${path}.`));
    return;
  }
  const r = m.page(shell.outlet, m.params);
  cleanup = r || undefined;
}

whenExpired(() => render());
onNavigate(render);
render();
