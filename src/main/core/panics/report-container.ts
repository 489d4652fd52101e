/**
 * The container of a macOS diagnostic report. Since macOS 12 a `.panic`/`.ips` file is two JSON objects
 * back to back: a one-line header (`bug_type` "210" panic, "298" JetsamEvent, "309" app crash, …) and a
 * body (Apple silicon panics: `panicString`; Intel: `macOSPanicString`). Public copies are often
 * truncated (invalid JSON), pasted with literal `\n` escapes, or plain text. Never throws.
 */
import { type JsonLimits, scanJsonLimits } from '../util/json-limits.js';

export type ContainerFormat = 'json' | 'json-truncated' | 'escaped-text' | 'text' | 'empty' | 'binary';

export interface ReportContainer {
  format: ContainerFormat;
  header: Record<string, unknown> | null;
  bugType: string | null;
  /** The body when it parsed as JSON. */
  body: Record<string, unknown> | null;
  /** Top-level string fields read from a body that did not parse (truncated). */
  bodyStrings: Record<string, string>;
  /** The panic text: `panicString`/`macOSPanicString`, or the whole text for plain-text reports. */
  panicText: string | null;
  /** The text after the header (JSON or not), for classifiers that search it. */
  bodyText: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * What a report's JSON may hold before it is parsed. A panic's body is a few levels deep with tens of
 * thousands of values (its stackshot's processes and threads); 2 MiB of nested empty arrays is a million
 * objects, 100 MiB and 300 ms for `JSON.parse`, and a directory of them took the daemon to 766 MiB. Past
 * these, the body's string fields are read by scanning instead, as for a truncated one.
 */
const REPORT_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxArrayItems: 100_000, maxValues: 250_000 };

/** The JSON in `text` when it parses within REPORT_JSON_LIMITS; undefined otherwise. */
function parseBounded(text: string): unknown {
  if (!scanJsonLimits(Buffer.from(text), REPORT_JSON_LIMITS).ok) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

/**
 * Decodes a JSON string literal starting right after its opening quote; stops at the end of a truncated
 * text. Copies runs between escapes as slices (a 2 MB value is a handful of parts, not 2 M appends).
 */
export function readJsonString(text: string, start: number): string {
  const parts: string[] = [];
  let i = Math.max(0, start);
  let quote = -2;
  while (i < text.length) {
    // The closing quote is searched again only once an escaped quote has been passed: linear time.
    if (quote !== -1 && quote < i) quote = text.indexOf('"', i);
    const slash = text.indexOf('\\', i);
    if (slash < 0 || (quote >= 0 && quote < slash)) {
      parts.push(text.slice(i, quote < 0 ? text.length : quote));
      return parts.join('');
    }
    parts.push(text.slice(i, slash));
    const n = text[slash + 1];
    if (n === undefined) return parts.join('');
    i = slash + 2;
    if (n === 'u') {
      const hex = text.slice(i, i + 4);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        parts.push(String.fromCharCode(Number.parseInt(hex, 16)));
        i += 4;
      }
    } else if (n !== '\n') {
      // A line wrap inserted inside an escape by whoever pasted the text is dropped.
      parts.push(ESCAPES[n] ?? n);
    }
  }
  return parts.join('');
}

/** Occurrences of `needle` in `text`, without building an array of matches. */
function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Top-level `"key":"value"` string fields of a (possibly truncated) JSON object text. */
function scanStringFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /"(\w+)"\s*:\s*"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (out[m[1]!] !== undefined) continue;
    const value = readJsonString(text, m.index + m[0].length);
    out[m[1]!] = value;
    // Skip the value so keys inside it are not read as fields.
    re.lastIndex = m.index + m[0].length + Math.min(value.length, text.length);
  }
  return out;
}

const PANIC_KEYS = ['panicString', 'macOSPanicString'];

export function readContainer(raw: string): ReportContainer {
  const empty: ReportContainer = {
    format: 'empty',
    header: null,
    bugType: null,
    body: null,
    bodyStrings: {},
    panicText: null,
    bodyText: '',
  };
  const text = raw.replace(/^\uFEFF/, '');
  if (text.trim() === '') return empty;
  // NULs and other control bytes in bulk: not a text report.
  const sample = text.slice(0, 4096);
  const controls = sample.replace(/[\t\n\r\x20-\x7e\u0080-\uffff]/g, '').length;
  if (controls > sample.length * 0.1) return { ...empty, format: 'binary', bodyText: '' };

  const nl = text.indexOf('\n');
  const firstLine = (nl < 0 ? text : text.slice(0, nl)).trim();
  let header: Record<string, unknown> | null = null;
  let rest = text;
  if (firstLine.startsWith('{')) {
    const h = parseBounded(firstLine);
    if (isRecord(h)) {
      header = h;
      rest = nl < 0 ? '' : text.slice(nl + 1);
    }
  }
  const bugType = header && header['bug_type'] !== undefined ? String(header['bug_type']) : null;
  const trimmed = rest.trim();
  if (trimmed.startsWith('{')) {
    const b = parseBounded(trimmed);
    const body = isRecord(b) ? b : null;
    if (body) {
      const key = PANIC_KEYS.find((k) => typeof body![k] === 'string');
      return {
        format: 'json',
        header,
        bugType,
        body,
        bodyStrings: {},
        panicText: key ? (body[key] as string) : null,
        bodyText: trimmed,
      };
    }
    const strings = scanStringFields(trimmed);
    const key = PANIC_KEYS.find((k) => strings[k] !== undefined);
    return {
      format: 'json-truncated',
      header,
      bugType,
      body: null,
      bodyStrings: strings,
      panicText: key ? strings[key]! : null,
      bodyText: trimmed,
    };
  }
  // Plain text; or a pasted panicString whose newlines are still `\n` escapes.
  const escapedNewlines = countOf(rest, '\\n');
  const realNewlines = countOf(rest, '\n');
  if (escapedNewlines > 2 && escapedNewlines > realNewlines) {
    const unescaped = readJsonString(rest.replace(/"/g, '\\"'), 0);
    return { ...empty, format: 'escaped-text', header, bugType, panicText: unescaped, bodyText: unescaped };
  }
  return { ...empty, format: 'text', header, bugType, panicText: rest, bodyText: rest };
}
