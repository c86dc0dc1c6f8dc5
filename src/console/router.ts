/** A page renders into `outlet` and may return a cleanup (timers, graphs, subscriptions). */
// biome-ignore lint/suspicious/noConfusingVoidType: most pages return nothing; some return their cleanup
export type Page = (outlet: HTMLElement, params: Record<string, string>) => void | (() => void);

interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
  nav: string;
}

const routes: Route[] = [];

/** `path` like `/contracts/:domain/:name`; `nav` is the left-navigation entry it belongs to. */
export function addRoute(path: string, nav: string, page: Page): void {
  const keys: string[] = [];
  const source = path.replace(/:([a-z]+)/g, (_m, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  routes.push({ pattern: new RegExp(`^${source}/?$`), keys, page, nav });
}

export function match(path: string): { page: Page; params: Record<string, string>; nav: string } | null {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      params[k] = decodeURIComponent(m[i + 1]!);
    });
    return { page: r.page, params, nav: r.nav };
  }
  return null;
}

let listener: () => void = () => {};
export function onNavigate(fn: () => void): void {
  listener = fn;
  window.addEventListener('popstate', fn);
  // Same-origin links navigate in place; modified clicks (new tab) keep the browser's behaviour.
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest?.('a');
    if (!a || a.target || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    ev.preventDefault();
    navigate(url.pathname + url.search);
  });
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  listener();
}

export const enc = encodeURIComponent;
