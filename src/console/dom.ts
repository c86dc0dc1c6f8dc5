/** A tiny DOM builder: the console is small enough not to need a framework. */
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Attrs = Record<string, AttrValue>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = String(value);
    else if (key === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table whose cells are plain values or nodes; `label` names it for screen readers and tests. */
export function table(label: string, columns: string[], rows: Child[][], empty = 'nothing yet'): HTMLElement {
  return h(
    'table',
    { class: 'data', 'aria-label': label },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.length === 0
        ? h('tr', null, h('td', { class: 'empty', colspan: columns.length }, empty))
        : rows.map((r) =>
            h(
              'tr',
              null,
              r.map((cell) => h('td', null, cell)),
            ),
          ),
    ),
  );
}

export function badge(status: string): HTMLElement {
  return h('span', { class: `badge badge-${status}` }, status);
}

/** An inline error naming what went wrong, with the API's hint when there is one. */
export function errorBox(err: unknown): HTMLElement {
  const e = err as { message?: string; body?: { field?: string; hint?: string; code?: string } };
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('strong', null, e.message ?? String(err)),
    e.body?.field ? h('div', { class: 'alert-detail' }, `field: ${e.body.field}`) : null,
    e.body?.hint ? h('div', { class: 'alert-detail' }, `hint: ${e.body.hint}`) : null,
  );
}

export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return new Date(iso).toLocaleString();
}

/**
 * An age that keeps itself current: a `<time>` whose text one page-wide ticker rewrites every
 * second, so "Last seen 3 s ago" counts on between two fetches of the node.
 */
export function liveAgo(iso: string | null | undefined): HTMLElement {
  startAgoTicker();
  return h('time', { datetime: iso ?? '', 'data-ago': '' }, ago(iso));
}

let agoTicking = false;
function startAgoTicker(): void {
  if (agoTicking) return;
  agoTicking = true;
  setInterval(() => {
    for (const t of document.querySelectorAll<HTMLTimeElement>('time[data-ago]'))
      t.textContent = ago(t.dateTime || null);
  }, 1000);
}

/** The equivalent CLI command for what the page shows (as linkerd's dashboard does). */
export function cli(command: string): HTMLElement {
  return h('p', { class: 'cli' }, h('span', null, 'CLI'), h('code', null, command));
}
