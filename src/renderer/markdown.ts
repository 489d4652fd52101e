/**
 * The crash report's Markdown as DOM: headings, paragraphs, lists, tables, code blocks, `code` and
 * **bold**. Built with elements and text nodes only: nothing in the report is ever parsed as HTML, so a
 * `<script>` or `<img onerror>` in it is shown as the text it is. Links are shown as text with their URL.
 */
import { h } from './dom.js';

/** Longest report rendered; the rest is cut with a note (reports are a few KiB). */
const MAX_CHARS = 400_000;

function inline(text: string): Array<Node | string> {
  const out: Array<Node | string> = [];
  // A code span of any number of backticks, a backslash escape, **bold**, a link.
  const re = /(`+)(.+?)\1(?!`)|\\([!-/:-@[-`{-~])|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index));
    if (m[2] !== undefined) out.push(h('code', {}, m[2].replace(/^ (.*) $/, '$1')));
    else if (m[3] !== undefined) out.push(m[3]);
    else if (m[4] !== undefined) out.push(h('strong', {}, ...inline(m[4])));
    else out.push(`${m[5]} (${m[6]})`);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((p) => p !== '');
}

/** A table row's cells: split on pipes that are not escaped (`\|` stays in its cell). */
const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||(?<!\\)\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

const isRule = (line: string): boolean => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

export function renderMarkdown(source: string): DocumentFragment {
  const text = source.length > MAX_CHARS ? source.slice(0, MAX_CHARS) : source;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const frag = document.createDocumentFragment();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = /^(`{3,})/.exec(line)?.[1];
    if (fence) {
      // Closed only by a run of backticks at least as long (a report's own ``` stays inside).
      const closes = new RegExp(`^\`{${fence.length},}\\s*$`);
      const body: string[] = [];
      for (i++; i < lines.length && !closes.test(lines[i]!); i++) body.push(lines[i]!);
      i++;
      frag.append(h('pre', {}, h('code', {}, body.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1]!.length + 2);
      frag.append(h(`h${level}`, {}, ...inline(heading[2]!)));
      i++;
      continue;
    }
    if (/^\s*\|/.test(line)) {
      const rows: string[][] = [];
      let header: string[] | null = null;
      for (; i < lines.length && /^\s*\|/.test(lines[i]!); i++) {
        if (isRule(lines[i]!)) {
          header = rows.pop() ?? null;
          continue;
        }
        rows.push(cells(lines[i]!));
      }
      frag.append(
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            header ? h('tr', {}, ...header.map((c) => h('th', {}, ...inline(c)))) : null,
            ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, ...inline(c))))),
          ),
        ),
      );
      continue;
    }
    const bullet = /^\s*(?:[-*]|\d+\.)\s+/;
    if (bullet.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: HTMLElement[] = [];
      for (; i < lines.length && bullet.test(lines[i]!); i++)
        items.push(h('li', {}, ...inline(lines[i]!.replace(bullet, ''))));
      frag.append(h(ordered ? 'ol' : 'ul', {}, ...items));
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const para: string[] = [];
    for (; i < lines.length && lines[i]!.trim() !== '' && !/^(#|```|\s*\||\s*[-*]\s)/.test(lines[i]!); i++)
      para.push(lines[i]!);
    if (para.length === 0) {
      para.push(line);
      i++;
    }
    frag.append(h('p', {}, ...inline(para.join('\n'))));
  }
  if (source.length > MAX_CHARS)
    frag.append(
      h('p', { class: 'muted' }, `Shown: the first ${MAX_CHARS} characters; copy the report for all of it.`),
    );
  return frag;
}
