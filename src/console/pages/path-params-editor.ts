import { errorBox, h, mount } from '../dom.js';
import { getDraft, parsePathParams, setDraft } from '../drafts.js';
import { enc, navigate, type Page } from '../router.js';
import { api } from '../session.js';

const EXAMPLES: [string, string][] = [
  [
    'Through a transit processor (the seed)',
    '{\n  "role": "server",\n  "contract": "voting-frontend",\n  "transit": "aws-p2"\n}',
  ],
  ['Several transit processors, in order', '{\n  "transit": ["aws-p2", "gcp-p1"]\n}'],
  ['Never through a processor', '{\n  "avoid": ["gcp-p1"]\n}'],
  ['At most two links (three processors)', '{\n  "maxHops": 2\n}'],
  ['No constraint (cheapest path)', '{}'],
];

/**
 * The Path Params editor: JSON on the left, examples and explanation on the right. SET only
 * checks the JSON and keeps it as a draft on the Role page; SUBMIT there saves it.
 */
export const pathParamsEditorPage: Page = (outlet, { domain, name, role }) => {
  const d = domain!;
  const n = name!;
  const r = role!;
  const back = `/contracts/${enc(d)}/${enc(n)}/roles/${r}`;
  const editor = h('textarea', {
    class: 'code-editor',
    spellcheck: 'false',
    'aria-label': 'Path params JSON',
    rows: 16,
  });
  const error = h('div', { 'aria-live': 'polite' });
  const set = () => {
    const parsed = parsePathParams(editor.value);
    if (!parsed.ok) {
      mount(error, errorBox(new Error(parsed.error)));
      return;
    }
    setDraft(d, n, r, { pathParams: parsed.value });
    navigate(back);
  };
  editor.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) set();
  });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head row-head' },
      h(
        'div',
        null,
        h(
          'p',
          { class: 'crumbs' },
          h('a', { href: '/contracts' }, 'Contracts'),
          ' / ',
          h('a', { href: back }, `${n} · ${r}`),
          ' / Path Params',
        ),
        h('h1', null, 'Edit Path Params'),
      ),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'btn btn-ghost', href: back }, 'Cancel'),
        h('button', { class: 'btn btn-primary', type: 'button', onclick: set }, 'SET'),
      ),
    ),
    error,
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { class: 'card' },
        h('h2', null, `${n} · ${r}`),
        editor,
        h(
          'p',
          { class: 'muted' },
          'SET keeps this as a draft; SUBMIT on the Role page saves it. Ctrl+Enter = SET.',
        ),
      ),
      h(
        'section',
        { class: 'card help' },
        h('h2', null, 'Path params'),
        h(
          'p',
          null,
          'Constrain the path this role’s traffic takes through the fabric. A flow carries the constraints of both roles; without any, it takes the cheapest path (Dijkstra over link costs).',
        ),
        h(
          'dl',
          null,
          h('dt', null, h('code', null, 'transit')),
          h(
            'dd',
            null,
            'a processor, or a list visited in order, each listed once; a transit processor that is down fails the flow (fail closed)',
          ),
          h('dt', null, h('code', null, 'avoid')),
          h('dd', null, 'processors the path must not use'),
          h('dt', null, h('code', null, 'maxHops')),
          h(
            'dd',
            null,
            'at most this many links on the path (processors − 1): 1 is a direct link between the client’s and the server’s processors; a flow ticket carries at most 15',
          ),
          h('dt', null, h('code', null, 'role'), ', ', h('code', null, 'contract')),
          h(
            'dd',
            null,
            'the peer role and this contract, as in the seed; checked against the role they are set on',
          ),
        ),
        h('h3', null, 'Examples'),
        EXAMPLES.map(([title, json]) =>
          h(
            'div',
            { class: 'example' },
            h(
              'div',
              { class: 'row-head' },
              h('strong', null, title),
              h(
                'button',
                {
                  class: 'btn btn-ghost btn-small',
                  type: 'button',
                  onclick: () => {
                    editor.value = json;
                    editor.focus();
                  },
                },
                'Use',
              ),
            ),
            h('pre', { class: 'json' }, json),
          ),
        ),
      ),
    ),
  );
  const draft = getDraft(d, n, r)?.pathParams;
  if (draft) editor.value = JSON.stringify(draft, null, 2);
  else
    void api((a) => a.contract(d, n)).then(
      (c) => {
        editor.value = JSON.stringify(c.roles.find((x) => x.name === r)?.pathParams ?? {}, null, 2);
      },
      (err) => mount(error, errorBox(err)),
    );
};
