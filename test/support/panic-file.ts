/**
 * Wraps panic text the way macOS writes it on Apple silicon (knowledge/panics.md §3.4): line 1 is the
 * header object (`bug_type` "210" as a string, `timestamp`, `os_version`, `incident_id`), then the body
 * object with `date`, `build`, `product`, `kernel`, `incident` and the text as `panicString` (newlines
 * escaped by JSON). The fixtures are excerpts; this is the container a real `panic-full-*.panic` has.
 */
export interface PanicFileOptions {
  /** Apple's `YYYY-MM-DD HH:MM:SS.ff ±hhmm`; default: derived from `time`. */
  date?: string;
  time?: number;
  osVersion?: string;
  product?: string;
  /** Put the text in `macOSPanicString` (Intel layout) instead of `panicString`. */
  intel?: boolean;
}

export function appleTimestamp(time: number): string {
  const d = new Date(time);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(Math.floor(d.getUTCMilliseconds() / 10))} +0000`;
}

export function wrapAsPanicFile(panicText: string, options: PanicFileOptions = {}): string {
  const date = options.date ?? appleTimestamp(options.time ?? Date.UTC(2026, 3, 23, 10, 0, 0));
  const os = options.osVersion ?? 'macOS 26.4.1 (25E253)';
  const incident = '5E2A4B1C-0000-4000-8000-00000000C0DE';
  const header = {
    bug_type: '210',
    timestamp: date,
    os_version: os,
    roots_installed: 0,
    incident_id: incident,
  };
  const body = options.intel
    ? { macOSProcessedStackshotData: 'c3RhY2tzaG90', macOSPanicString: panicText }
    : {
        build: os,
        product: options.product ?? 'Mac16,6',
        socId: '6041',
        kernel: /Darwin Kernel Version[^\n]*/.exec(panicText)?.[0] ?? '',
        incident,
        crashReporterKey: 'D1E2F3A4B5C6D7E8F9A0B1C2D3E4F5A6B7C8D9E0',
        date,
        panicString: panicText,
        panicFlags: '0x902',
        bug_type: '210',
      };
  return `${JSON.stringify(header)}\n${JSON.stringify(body)}`;
}
