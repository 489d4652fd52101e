import { finiteNumber, finiteOrNull } from '../../util/finite.js';
/**
 * `ps -o …` output, with a header row or headerless (`pid=`). Columns are read by what they are, not by
 * character position: single-token fields, `lstart` (five tokens, localized), and the last column
 * (`comm`/`args`/`command`) which takes the rest of the line — spaces included. On macOS `comm` is the
 * full executable path, `rss`/`vsz` are KiB and `etime` is `[[dd-]hh:]mm:ss`.
 */

export type PsColumn =
  | 'pid'
  | 'ppid'
  | 'uid'
  | 'ruid'
  | 'pgid'
  | 'pcpu'
  | 'pmem'
  | 'rss'
  | 'vsz'
  | 'time'
  | 'etime'
  | 'lstart'
  | 'user'
  | 'state'
  | 'comm'
  | 'args';

export interface PsRow {
  pid: number;
  ppid?: number;
  uid?: number;
  /** The real uid (`ruid`). */
  ruid?: number;
  pgid?: number;
  cpuPercent?: number;
  memPercent?: number;
  rssBytes?: number;
  vszBytes?: number;
  cpuTimeSeconds?: number;
  elapsedSeconds?: number;
  /** Epoch ms from `lstart`, read as local time on this machine. */
  startTime?: number;
  user?: string;
  state?: string;
  comm?: string;
  args?: string;
}

const HEADER_NAMES: Record<string, PsColumn> = {
  PID: 'pid',
  PPID: 'ppid',
  UID: 'uid',
  RUID: 'ruid',
  PGID: 'pgid',
  '%CPU': 'pcpu',
  '%MEM': 'pmem',
  RSS: 'rss',
  VSZ: 'vsz',
  TIME: 'time',
  ELAPSED: 'etime',
  STARTED: 'lstart',
  USER: 'user',
  STAT: 'state',
  COMM: 'comm',
  COMMAND: 'args',
  ARGS: 'args',
};

const REST_COLUMNS = new Set<PsColumn>(['comm', 'args']);

/** `[[dd-]hh:]mm:ss` → seconds. */
export function parseElapsed(s: string): number | null {
  const m = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(s.trim());
  if (!m) return null;
  return finiteOrNull(
    Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]),
  );
}

/** `[hh:]mm:ss.cc` cumulative CPU time → seconds. */
export function parseCpuTime(s: string): number | null {
  const m = /^(?:(\d+):)?(\d+):(\d+(?:[.,]\d+)?)$/.exec(s.trim());
  if (!m) return null;
  return finiteOrNull(Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]!.replace(',', '.')));
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  mär: 2,
  apr: 3,
  may: 4,
  mai: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  okt: 9,
  nov: 10,
  dec: 11,
  dez: 11,
};

/**
 * `lstart` in the C locale (`Sat Aug  1 17:46:44 2026`) or localized with the day first
 * (`Mi. 12 Aug. 19:39:58 2026`). Returns local-time epoch ms, or null if it is not a date.
 */
export function parseLstart(tokens: string[]): number | null {
  let month: number | null = null;
  let day: number | null = null;
  let year: number | null = null;
  let hms: number[] | null = null;
  for (const t of tokens) {
    const clean = t.replace(/\.$/, '').toLowerCase();
    const time = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(t);
    if (time) hms = [Number(time[1]), Number(time[2]), Number(time[3])];
    else if (/^\d{4}$/.test(t)) year = Number(t);
    else if (/^\d{1,2}\.?$/.test(t)) day = Number.parseInt(t, 10);
    else if (month === null && MONTHS[clean.slice(0, 3)] !== undefined && clean.length <= 5) {
      // Weekday abbreviations never collide with a month prefix in English or German.
      month = MONTHS[clean.slice(0, 3)]!;
    }
  }
  if (month === null || day === null || year === null || hms === null) return null;
  const d = new Date(year, month, day, hms[0], hms[1], hms[2]);
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

interface Token {
  text: string;
  start: number;
}

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], start: m.index });
  return out;
}

function headerColumns(line: string): PsColumn[] | null {
  const names = line.trim().split(/\s+/);
  if (names[0] !== 'PID') return null;
  const cols: PsColumn[] = [];
  for (const n of names) {
    const c = HEADER_NAMES[n];
    if (!c) return null;
    cols.push(c);
  }
  return cols;
}

/** A decimal in either locale's notation (`1,5` or `1.5`); undefined when not a finite number. */
const decimal = (s: string): number | undefined => finiteNumber(s.replace(',', '.')) ?? undefined;

/** Sets the field one whitespace-separated column holds (a figure that does not read stays undefined). */
function setField(row: Partial<PsRow>, col: PsColumn, tok: string): void {
  switch (col) {
    case 'pid':
      row.pid = /^\d+$/.test(tok) ? Number(tok) : Number.NaN;
      break;
    case 'ppid':
      row.ppid = decimal(tok);
      break;
    case 'uid':
      row.uid = /^\d+$/.test(tok) ? Number(tok) : undefined;
      break;
    case 'ruid':
      row.ruid = /^\d+$/.test(tok) ? Number(tok) : undefined;
      break;
    case 'pgid':
      row.pgid = decimal(tok);
      break;
    case 'pcpu':
      row.cpuPercent = decimal(tok);
      break;
    case 'pmem':
      row.memPercent = decimal(tok);
      break;
    case 'rss': {
      const v = decimal(tok);
      row.rssBytes = v === undefined ? undefined : (finiteOrNull(v * 1024) ?? undefined);
      break;
    }
    case 'vsz': {
      const v = decimal(tok);
      row.vszBytes = v === undefined ? undefined : (finiteOrNull(v * 1024) ?? undefined);
      break;
    }
    case 'time':
      row.cpuTimeSeconds = parseCpuTime(tok) ?? undefined;
      break;
    case 'etime':
      row.elapsedSeconds = parseElapsed(tok) ?? undefined;
      break;
    case 'user':
      row.user = tok;
      break;
    case 'state':
      row.state = tok;
      break;
    case 'comm':
      row.comm = tok;
      break;
    case 'args':
      row.args = tok;
      break;
  }
}

/** One line as a row of `cols`; null when it does not fit (too few columns, an unreadable start time). */
function parseRow(line: string, cols: PsColumn[]): Partial<PsRow> | null {
  const tokens = tokenize(line);
  const row: Partial<PsRow> = {};
  let i = 0;
  for (let c = 0; c < cols.length; c++) {
    const col = cols[c]!;
    if (REST_COLUMNS.has(col) && c === cols.length - 1) {
      // The last column may hold spaces (a command line): the rest of the line from its first character.
      const first = tokens[i];
      if (!first) return null;
      const rest = line.slice(first.start).trimEnd();
      if (col === 'comm') row.comm = rest;
      else row.args = rest;
      i = tokens.length;
      continue;
    }
    if (col === 'lstart') {
      const ms = parseLstart(tokens.slice(i, i + 5).map((x) => x.text));
      i += 5;
      if (ms === null) return null;
      row.startTime = ms;
      continue;
    }
    const tok = tokens[i++]?.text;
    if (tok === undefined) return null;
    setField(row, col, tok);
  }
  return row;
}

/**
 * @param columns the `-o` list used, for headerless output; with a header row it is read from the header.
 * Rows that do not fit (truncated lines, garbage) are skipped, never guessed.
 */
export function parsePs(text: string, columns?: PsColumn[]): PsRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let cols = columns ?? null;
  let startIndex = 0;
  if (lines.length > 0) {
    const fromHeader = headerColumns(lines[0]!);
    if (fromHeader) {
      cols = fromHeader;
      startIndex = 1;
    }
  }
  if (!cols) return [];
  const rows: PsRow[] = [];
  for (const line of lines.slice(startIndex)) {
    const row = parseRow(line, cols);
    if (row && row.pid !== undefined && Number.isInteger(row.pid)) rows.push(row as PsRow);
  }
  return rows;
}
