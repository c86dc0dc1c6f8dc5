import { labelOf, OPTIONS, POLL } from './config.js';
import { escapeHtml } from './http-kit.js';
import { percentOf, type Tally } from './tally.js';

/**
 * The result page: counts and percentages, rendered by the server (readable without
 * JavaScript), then kept current by the event stream — a snapshot on every (re)connect and an
 * event on every change. No timer in the page asks for anything.
 */
export function resultPage(t: Tally, o: { instance: string; notice?: string }): string {
  const rows = OPTIONS.map((opt) => {
    const pct = percentOf(t, opt);
    return `<div class="row" data-option="${escapeHtml(opt)}">
      <span class="label">${escapeHtml(labelOf(opt))}</span>
      <span class="bar"><span class="fill" style="width:${pct}%"></span></span>
      <span class="pct">${pct}%</span>
      <span class="count">${t[opt]}</span>
    </div>`;
  }).join('\n    ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Results: ${escapeHtml(POLL.question)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; }
    h1 { text-align: center; }
    .row { display: grid; grid-template-columns: 8rem 1fr 4rem 4rem; gap: .75rem; align-items: center; margin: 1rem 0; }
    .bar { background: #edf2f7; height: 1.5rem; border-radius: .25rem; overflow: hidden; }
    .fill { display: block; height: 100%; background: #2b6cb0; transition: width .3s; }
    .pct, .count { text-align: right; font-variant-numeric: tabular-nums; }
    #status { color: #718096; font-size: .85rem; text-align: center; }
    .notice { color: #c53030; text-align: center; }
  </style>
</head>
<body>
  <h1>${escapeHtml(POLL.question)}</h1>
  ${o.notice ? `<p class="notice">${escapeHtml(o.notice)}</p>` : ''}
  <div id="rows">
    ${rows}
  </div>
  <p class="total" style="text-align:center"><span id="total">${t.total}</span> votes</p>
  <p style="text-align:center"><a href="/voting/vote">Vote</a></p>
  <p id="status">Served by <code>${escapeHtml(o.instance)}</code></p>
  <script>
    const status = document.getElementById('status');
    const show = (t) => {
      for (const row of document.querySelectorAll('.row')) {
        const n = t[row.dataset.option] ?? 0;
        const pct = t.total ? Math.round((n / t.total) * 1000) / 10 : 0;
        row.querySelector('.fill').style.width = pct + '%';
        row.querySelector('.pct').textContent = pct + '%';
        row.querySelector('.count').textContent = n;
      }
      document.getElementById('total').textContent = t.total;
    };
    const events = new EventSource('/voting/result/events');
    events.addEventListener('tally', (e) => { show(JSON.parse(e.data)); status.textContent = 'live'; });
    events.onerror = () => { status.textContent = 'reconnecting…'; };
  </script>
</body>
</html>
`;
}
