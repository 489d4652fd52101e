import { findKextVersion } from '../probes/darwin/kext-version-parser.js';
import { finiteNumber } from '../util/finite.js';
import { visibleText } from '../util/format.js';
import { classifyPanicLine, type PanicKind } from './panic-classifier.js';
import {
  epochHex,
  fieldValue,
  hasPanicText,
  kernelVersion,
  panickedTask,
  panickedThreadTid,
} from './panic-fields.js';
import { lineStart, linesFrom, panicLines } from './panic-lines.js';
import { type ContainerFormat, readContainer } from './report-container.js';

/** What a kernel panic report says, as far as the text allows. Missing facts are null, never guessed. */
export interface PanicInfo {
  kind: PanicKind;
  bugType: string | null;
  format: ContainerFormat;
  panicLine: string | null;
  cpu: number | null;
  osBuild: string | null;
  osVersion: string | null;
  darwinVersion: string | null;
  xnuVersion: string | null;
  /** `T6041`: the kernelcache family, not the chip (an M4 Pro reports T6041). */
  kernelFamily: string | null;
  paniclogVersion: number | null;
  process: { pid: number; name: string } | null;
  task: { pages: number | null; threads: number | null } | null;
  tid: number | null;
  iogpuFamilyVersion: string | null;
  compressorInfo: {
    text: string;
    compressedPercent: number | null;
    segmentsPercent: number | null;
    swapfiles: number | null;
    bad: boolean;
  } | null;
  /** ISO 8601, from the body `date`, the header `timestamp` or the Epoch Time Calendar value. */
  panicTime: string | null;
  panicTimeSource: 'body.date' | 'header.timestamp' | 'epoch.calendar' | null;
  bootTime: string | null;
  incidentId: string | null;
  /** The first lines of the panic text, for a crash report excerpt. */
  excerpt: string[];
  /** False when the text has nothing of a kernel panic log (see PANIC_TEXT): not a kernel panic. */
  hasPanicText: boolean;
}

/** `2026-08-14 11:02:40.00 +0200` (Apple's report timestamps) → ISO 8601 UTC; null if not that shape. */
export function parseReportTimestamp(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*([+-])(\d{2}):?(\d{2})$/.exec(
    s.trim(),
  );
  if (!m) return null;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000;
  const t =
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms) -
    offset;
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function epochValue(text: string, label: string): string | null {
  const m = epochHex(text, label);
  if (!m) return null;
  const seconds = Number.parseInt(m[0], 16);
  if (seconds === 0) return null;
  const t = seconds * 1000 + Math.floor(Number.parseInt(m[1], 16) / 1000);
  // Past what a Date holds (±8.64e15 ms): not a time.
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : null;
}

/** A line that starts a new field of the panic log (`Debugger message: panic`, `OS version: …`, `CR0: …`). */
const FIELD_LINE = /^[A-Z][\w ().,/-]*\s?:(\s|$)/;
const SOURCE_FILE = /@\w+\.\w+:\d+/;
/** Longer than any real panic line: a line of garbage is cut here. */
const MAX_PANIC_LINE = 1000;
/** Longer than any real field value (`OS version`, the task name, the compressor line). */
const MAX_FIELD = 300;

/**
 * The panic line. A pasted copy may wrap it anywhere, even mid-phrase or mid-word: following lines (up to
 * three, never a blank line, a field line or another panic line) are joined while the line is visibly
 * unfinished (an open quote, nothing after the caller, the source file on the next line), or when joining
 * them turns an unclassified line into a known kind. The classifier ignores whitespace, so the joined
 * text classifies like the unwrapped one. `lines`: from the first line with `panic(cpu N` (the three
 * after it are all it may look at).
 */
function findPanicLine(lines: string[]): { line: string; cpu: number | null } | null {
  const i = lines.findIndex((l) => /panic\(cpu \d+/.test(l));
  if (i < 0) return null;
  const first = lines[i]!.trim();
  const more: string[] = [];
  for (let k = i + 1; k < lines.length && more.length < 3; k++) {
    const t = lines[k]!.trim();
    if (t === '' || FIELD_LINE.test(t) || t.includes('panic(cpu')) break;
    more.push(t.slice(0, MAX_PANIC_LINE));
  }
  let line = first.slice(first.indexOf('panic(cpu')).slice(0, MAX_PANIC_LINE);
  let used = 0;
  for (const next of more) {
    const openQuote = (line.match(/"/g) ?? []).length % 2 === 1;
    const bareCaller = /\):\s*$/.test(line);
    const fileNext = !SOURCE_FILE.test(line) && /^(["@]|[^:]*@\w+\.\w+:\d+)/.test(next);
    if (!(openQuote || bareCaller || fileNext)) break;
    line = `${line} ${next}`;
    used++;
  }
  if (classifyPanicLine(line) === 'other') {
    let candidate = line;
    for (const next of more.slice(used)) {
      candidate = `${candidate} ${next}`;
      if (classifyPanicLine(candidate) !== 'other') {
        line = candidate;
        break;
      }
    }
  }
  line = line.slice(0, MAX_PANIC_LINE);
  const cpu = /panic\(cpu (\d+)/.exec(line);
  return { line, cpu: cpu ? finiteNumber(cpu[1]) : null };
}

const field = (text: string, label: string): string | null =>
  fieldValue(text, label)?.slice(0, MAX_FIELD) ?? null;

export function parsePanicReport(raw: string): PanicInfo {
  const c = readContainer(raw);
  const text = c.panicText ?? '';
  const kept = panicLines(text);
  const clean = kept.text;
  // The panic line and the (at most three) lines that may continue it.
  const panicAt = /panic\(cpu \d+/.exec(clean)?.index;
  const panic = panicAt === undefined ? null : findPanicLine(linesFrom(kept, lineStart(clean, panicAt), 4));

  const kernel = kernelVersion(clean);
  const headerOs = typeof c.header?.['os_version'] === 'string' ? (c.header['os_version'] as string) : null;
  const headerOsParts = headerOs ? /^(?:macOS|Mac OS X)\s+([\d.]+)\s*\(([^)]+)\)/.exec(headerOs) : null;
  const task = panickedTask(clean);
  const taskPid = task ? finiteNumber(task.pid) : null;
  const compressor = /^Compressor Info:\s*(.+)$/m.exec(clean);
  const paniclog = field(clean, 'Paniclog version');

  const bodyDate = parseReportTimestamp(c.body?.['date'] ?? c.bodyStrings['date']);
  const headerDate = parseReportTimestamp(c.header?.['timestamp']);
  const calendar = epochValue(clean, 'Calendar');
  const panicTime = bodyDate ?? headerDate ?? calendar;

  let compressorInfo: PanicInfo['compressorInfo'] = null;
  if (compressor) {
    const t = compressor[1]!.slice(0, MAX_FIELD);
    const pct = /(\d+)% of compressed pages limit/.exec(t);
    const seg = /(\d+)% of segments limit/.exec(t);
    const swap = /with (\d+) swapfiles/.exec(t);
    compressorInfo = {
      text: t,
      compressedPercent: pct ? finiteNumber(pct[1]) : null,
      segmentsPercent: seg ? finiteNumber(seg[1]) : null,
      swapfiles: swap ? finiteNumber(swap[1]) : null,
      bad: /\(BAD\)/.test(t),
    };
  }
  const excerptStart = panic ? lineStart(clean, clean.indexOf('panic(cpu')) : 0;
  // Shown in lists, events and the crash report: a right-to-left override or a control character in a report
  // (anyone may write one where they are scanned) must not change how it reads.
  const panicLine = panic ? visibleText(panic.line) : null;
  return {
    // Classified as shown: the kind is what the stored line says to anyone who reads it.
    kind: classifyPanicLine(panicLine),
    bugType: c.bugType,
    format: c.format,
    panicLine,
    cpu: panic?.cpu ?? null,
    osBuild: field(clean, 'OS version') ?? (headerOsParts ? headerOsParts[2]! : null),
    osVersion: headerOsParts ? headerOsParts[1]! : null,
    darwinVersion: kernel?.darwin ?? null,
    xnuVersion: kernel?.xnu ?? null,
    kernelFamily: kernel?.family ?? null,
    paniclogVersion: paniclog && /^\d+$/.test(paniclog) ? finiteNumber(paniclog) : null,
    process: taskPid !== null ? { pid: taskPid, name: visibleText(task!.name.slice(0, MAX_FIELD)) } : null,
    task: task ? { pages: finiteNumber(task.pages), threads: finiteNumber(task.threads) } : null,
    tid: panickedThreadTid(clean),
    iogpuFamilyVersion: findKextVersion(clean),
    compressorInfo,
    panicTime,
    panicTimeSource: bodyDate
      ? 'body.date'
      : headerDate
        ? 'header.timestamp'
        : calendar
          ? 'epoch.calendar'
          : null,
    bootTime: epochValue(clean, 'Boot'),
    incidentId: typeof c.header?.['incident_id'] === 'string' ? (c.header['incident_id'] as string) : null,
    excerpt: linesFrom(kept, excerptStart, 20).map((l) => visibleText(l.trimEnd().slice(0, MAX_PANIC_LINE))),
    hasPanicText: panic !== null || hasPanicText(clean),
  };
}
