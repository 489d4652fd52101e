/**
 * The panic text as the parser reads it, without building an array of every line: a hostile report of
 * 2 MiB of newlines is two million lines, and splitting, testing and joining each took about half a
 * second. The text is the lines of the report (`\r\n` read as `\n`) without the `[... gap: …]` lines that
 * excerpts carry, joined by `\n`; only the few lines the parser looks at are cut out of it.
 */

const GAP = '[... gap: ';
const GAP_MARKER = /^\[\.\.\. gap: .*\]$/;

export interface PanicLines {
  /** The kept lines joined by `\n`. */
  text: string;
  /** No line was kept (every line was a gap marker): `text` is empty and holds no line at all. */
  none: boolean;
}

/** The report's lines without gap markers: `text.split(/\r?\n/)` filtered, then joined, in linear time. */
export function panicLines(raw: string): PanicLines {
  const text = raw.replace(/\r\n/g, '\n');
  if (!text.includes(GAP)) return { text, none: false };
  // The lines to drop, in order, as [start, end) offsets (end: their `\n`, or the end of the text).
  const dropped: Array<[number, number]> = [];
  for (let at = text.indexOf(GAP); at >= 0; ) {
    const start = text.lastIndexOf('\n', at) + 1;
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    if (GAP_MARKER.test(text.slice(start, end).trim())) dropped.push([start, end]);
    at = nl < 0 ? -1 : text.indexOf(GAP, nl);
  }
  if (dropped.length === 0) return { text, none: false };
  const kept: string[] = [];
  const [firstStart] = dropped[0]!;
  if (firstStart > 0) kept.push(text.slice(0, firstStart - 1));
  for (let i = 0; i + 1 < dropped.length; i++) {
    const from = dropped[i]![1] + 1;
    const to = dropped[i + 1]![0] - 1;
    if (from <= to) kept.push(text.slice(from, to));
  }
  const lastEnd = dropped[dropped.length - 1]![1];
  if (lastEnd < text.length) kept.push(text.slice(lastEnd + 1));
  return { text: kept.join('\n'), none: kept.length === 0 };
}

/** Where the line holding offset `at` (not a `\n`) starts. */
export const lineStart = (text: string, at: number): number => text.lastIndexOf('\n', at) + 1;

/** At most `count` lines from the line starting at `start`. */
export function linesFrom(p: PanicLines, start: number, count: number): string[] {
  const out: string[] = [];
  if (p.none) return out;
  for (let pos = start; out.length < count; ) {
    const nl = p.text.indexOf('\n', pos);
    out.push(p.text.slice(pos, nl < 0 ? p.text.length : nl));
    if (nl < 0) break;
    pos = nl + 1;
  }
  return out;
}
