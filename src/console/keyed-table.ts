import { type Child, h, mount } from './dom.js';

/**
 * A data table that a page refreshes in place: each row is kept by its key, its cells' content
 * replaced, rows added and removed, and nothing else touched. A page that polls cannot rebuild
 * its table instead: a click is a press and a release on the same element, and Chrome drops one
 * whose element left the document in between (even to be put back), so a user's click on a
 * button of a table rebuilt under it would do nothing. A cell whose new content is the very node
 * it already holds (a page keeps its buttons) is left alone for the same reason.
 */
export class KeyedTable<T> {
  readonly element: HTMLTableElement;
  readonly #body: HTMLTableSectionElement;
  readonly #rows = new Map<string, HTMLTableRowElement>();
  #empty: HTMLTableRowElement | undefined;

  constructor(
    label: string,
    private readonly columns: readonly string[],
    private readonly key: (item: T) => string,
    private readonly cells: (item: T) => Child[],
    private readonly emptyText = 'nothing yet',
  ) {
    this.#body = h('tbody', null);
    this.element = h(
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
      this.#body,
    );
  }

  /** Shows `items` in their order. */
  show(items: readonly T[]): void {
    const keys = new Set(items.map(this.key));
    for (const [k, row] of this.#rows) {
      if (keys.has(k)) continue;
      row.remove();
      this.#rows.delete(k);
    }
    if (items.length === 0) {
      this.#empty ??= h(
        'tr',
        null,
        h('td', { class: 'empty', colspan: this.columns.length }, this.emptyText),
      );
      this.#body.replaceChildren(this.#empty);
      return;
    }
    this.#empty?.remove();
    let next: ChildNode | null = this.#body.firstChild;
    for (const item of items) {
      const k = this.key(item);
      let row = this.#rows.get(k);
      if (!row) {
        row = h(
          'tr',
          null,
          this.columns.map(() => h('td', null)),
        );
        this.#rows.set(k, row);
      }
      // Only a new row, or one whose place changed, is inserted; a row already in place stays.
      if (row === next) next = row.nextSibling;
      else this.#body.insertBefore(row, next);
      fill(row, this.cells(item));
    }
  }
}

function fill(row: HTMLTableRowElement, content: Child[]): void {
  content.forEach((c, i) => {
    const cell = row.cells[i];
    if (!cell) return;
    if (c instanceof Node && cell.childNodes.length === 1 && cell.firstChild === c) return;
    mount(cell, c);
  });
}
