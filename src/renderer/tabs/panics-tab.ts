import type { ReportView } from '../../shared/api-contracts.js';
import type { SentinelClient } from '../client.js';
import type { RenderTab } from '../context.js';
import { errorText, h, table } from '../dom.js';
import { timeEl } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import { pager } from '../pager.js';

export const renderPanics: RenderTab = async (panel, ctx) => {
  const page = await ctx.client.panics();
  const detail = h('section', { id: 'report', 'aria-live': 'polite' });
  const panicRow = (r: ReportView): HTMLElement => {
    const open = (): void => void showReport(ctx.client, r.id, detail);
    const row = h(
      'tr',
      {
        class: 'clickable',
        'data-id': String(r.id),
        tabindex: '0',
        'aria-label': `Open crash report ${r.id}`,
      },
      h('td', {}, String(r.id)),
      h('td', {}, timeEl(r.panicTime ?? r.mtime)),
      h('td', {}, r.category ?? '—'),
      h('td', {}, r.kind ?? r.status),
      h('td', {}, r.pid === null ? '—' : `${r.pid} ${r.processName ?? ''}`),
      h('td', {}, r.attribution?.verdict ?? '—'),
    );
    row.addEventListener('click', open);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        open();
      }
    });
    return row;
  };
  const list = table(
    { id: 'panic-list' },
    ['ID', 'Time', 'Category', 'Kind', 'Process', 'Was'],
    page.items.map(panicRow),
    'No panic reports.',
  );
  panel.replaceChildren(
    h('h2', {}, 'Panics and crash reports'),
    list.wrap,
    pager(list.table, page, (before) => ctx.client.panics(before), panicRow, 'Older reports'),
    detail,
  );
};

/** The report rendered (its Markdown as DOM, never as HTML) and scrolled into view. */
export async function showReport(client: SentinelClient, id: number, host: HTMLElement): Promise<void> {
  let text: string;
  try {
    text = await client.panicReport(id);
  } catch (e) {
    host.replaceChildren(h('p', { class: 'error' }, errorText(e)));
    return;
  }
  const copy = h('button', { type: 'button', class: 'action' }, 'Copy report');
  copy.addEventListener('click', () => {
    void navigator.clipboard.writeText(text).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = 'Copy failed: select the text instead'),
    );
  });
  const heading = h('h2', { tabindex: '-1' }, `Crash report ${id}`);
  host.replaceChildren(heading, copy, h('article', { class: 'report' }, renderMarkdown(text)));
  heading.scrollIntoView({ block: 'start' });
  heading.focus({ preventScroll: true });
}
