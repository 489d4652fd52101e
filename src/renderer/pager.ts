import type { Page } from './client.js';
import { errorText, h } from './dom.js';

/**
 * A list that grows by pages, newest first: an "Older" button below `table` while the daemon says there is
 * more (its `truncated` and `next` cursor); each click appends the next page's rows.
 */
export function pager<T>(
  table: HTMLElement,
  first: Page<T>,
  more: (before: number) => Promise<Page<T>>,
  row: (item: T) => HTMLElement,
  label: string,
): HTMLElement {
  const footer = h('p', { class: 'muted pager' });
  const show = (page: Page<T>): void => {
    if (!page.truncated || page.next === null) return void footer.replaceChildren();
    const cursor = page.next;
    const button = h('button', { type: 'button', class: 'action', 'data-before': String(cursor) }, label);
    button.addEventListener('click', () => {
      void more(cursor)
        .then((next) => {
          table.append(...next.items.map(row));
          show(next);
        })
        .catch((e: unknown) => footer.replaceChildren(h('span', { class: 'error' }, errorText(e))));
    });
    footer.replaceChildren('More than shown. ', button);
  };
  show(first);
  return footer;
}
