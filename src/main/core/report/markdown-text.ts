/**
 * Text from a panic report (or anything else from outside) put into the crash report's Markdown: the report
 * is printed on a terminal (`exo-sentinel report`) and pasted into public issues, so nothing in it may act.
 * Control characters become U+FFFD (an escape sequence on a terminal is a command: a hidden link, a cleared
 * screen); Markdown is escaped where it would be read, code spans and fences are made longer than any run of
 * backticks inside them, and table cells cannot gain columns.
 */

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const BREAKS = /[\t\n\r]/g;

/** The text with control characters replaced, tabs and line breaks kept. */
export const inert = (s: string): string => s.replace(CONTROLS, '\uFFFD');

/** One line of inert text. */
const oneLine = (s: string): string => inert(s).replace(BREAKS, ' ');

/**
 * Plain Markdown text: one line, the punctuation that starts links, images, emphasis, HTML, a heading or a
 * mention escaped (parentheses need nothing once `[` is escaped).
 */
export const mdText = (s: string): string => oneLine(s).replace(/[\\`*_[\]<>!|~#@]/g, '\\$&');

const longestRun = (s: string): number => Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));

/** An inline code span that holds any text: its delimiter is longer than the backtick runs inside. */
export function mdCode(s: string): string {
  const text = oneLine(s);
  const tick = '`'.repeat(longestRun(text) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${tick}${pad}${text}${pad}${tick}`;
}

/** A table cell: one line, its pipes escaped. */
export const mdCell = (s: string): string => oneLine(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');

/** A fenced block of `lines` (tagged `info`): its fence is longer than any backtick run in them. */
export function mdFence(info: string, lines: string[]): string[] {
  const body = lines.map((l) => inert(l).replace(/[\n\r]/g, ' '));
  const fence = '`'.repeat(Math.max(3, ...body.map((l) => (/^\s*(`{3,})/.exec(l)?.[1]?.length ?? 0) + 1)));
  return [`${fence}${info}`, ...body, fence];
}
