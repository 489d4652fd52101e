/** DOM helpers for the dashboard. Text is always set as text, never parsed as HTML. */

export type Child = Node | string | null | undefined | false;

/** Creates an element: h('div', { class: 'x' }, 'text', child). */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A figure with its name, and a line saying why when the figure is unknown. */
export function card(k: string, v: Child, why?: string | null, id?: string): HTMLElement {
  return h(
    'div',
    { class: 'card', ...(id ? { id } : {}) },
    h('div', { class: 'k' }, k),
    h('div', { class: 'v' }, v),
    why ? h('div', { class: 'why' }, why) : null,
  );
}

/** A scrollable table: header cells, rows, and a one-cell row saying `empty` when there are none. */
export function table(
  attrs: Record<string, string>,
  headers: string[],
  rows: HTMLElement[],
  empty: string | null = null,
): { wrap: HTMLElement; table: HTMLElement } {
  const t = h(
    'table',
    attrs,
    h('tr', {}, ...headers.map((c) => h('th', { scope: 'col' }, c))),
    ...(rows.length || empty === null
      ? rows
      : [h('tr', {}, h('td', { colspan: String(headers.length), class: 'muted' }, empty))]),
  );
  return { wrap: h('div', { class: 'table-wrap' }, t), table: t };
}

export const tr = (attrs: Record<string, string>, ...cells: Child[]): HTMLElement =>
  h('tr', attrs, ...cells.map((c) => h('td', {}, c)));

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
