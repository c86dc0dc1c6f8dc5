import { labelOf, OPTIONS, POLL, type VoteOption } from './config.js';
import { escapeHtml } from './http-kit.js';

/** The vote page: the question, one button per option, the voter's current choice. */
export function votePage(o: {
  current?: VoteOption;
  instance: string;
  notice?: { kind: 'ok' | 'error'; text: string };
}): string {
  const buttons = OPTIONS.map(
    (opt) =>
      `<button type="submit" name="vote" value="${escapeHtml(opt)}"${o.current === opt ? ' class="chosen"' : ''}>${escapeHtml(labelOf(opt))}</button>`,
  ).join('\n      ');
  const current = o.current
    ? `<p class="current">Your current vote: <strong>${escapeHtml(labelOf(o.current))}</strong></p>`
    : '<p class="current">You have not voted yet.</p>';
  const notice = o.notice ? `<p class="notice ${o.notice.kind}">${escapeHtml(o.notice.text)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(POLL.question)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; text-align: center; }
    form { display: flex; gap: 1rem; justify-content: center; margin: 2rem 0; }
    button { font-size: 1.4rem; padding: 1rem 2rem; border-radius: .5rem; border: 2px solid #2b6cb0; background: #fff; cursor: pointer; }
    button.chosen { background: #2b6cb0; color: #fff; }
    .notice.error { color: #c53030; }
    footer { color: #718096; font-size: .85rem; margin-top: 3rem; }
  </style>
</head>
<body>
  <h1>${escapeHtml(POLL.question)}</h1>
  <form method="post" action="/voting/vote">
      ${buttons}
  </form>
  ${notice}
  ${current}
  <p><a href="/voting/result">See the results</a></p>
  <footer>Processed by instance <code>${escapeHtml(o.instance)}</code></footer>
</body>
</html>
`;
}
