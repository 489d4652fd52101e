import { finiteNumber } from '../util/finite.js';

/**
 * Lookups of panic log fields that stay linear in the text, whatever it holds. A report file is written
 * by whoever can write the directory, and a few of the obvious regular expressions are quadratic on
 * hostile text: `^\s*Label` with the `m` flag runs `\s*` across blank lines from every line start (64 KiB
 * of newlines took 22 s), `(.+?)\s*$` retries the whole rest of a line at each character (64 KiB of
 * spaces after `OS version: a`: 11 s), and a `.*` or `[^;]*` after a label repeated on one line rescans
 * the line for each repetition. Each lookup here finds what those expressions found on any text
 * (test/unit/panics/panic-fields.test.ts compares them), in time proportional to the text.
 */

/** Whitespace within a line: `\s` without the line terminators (`^` matches after each of them). */
const HS = '[^\\S\\r\\n\\u2028\\u2029]';
/**
 * The value after a label (what `(.+?)\s*$` took, in linear time): from its first non-blank to the last
 * non-blank of that line; when only blanks follow the label to the end of the text (a truncated report),
 * the last blank that is not a line break.
 */
const VALUE = `(\\S(?:.*\\S)?|${HS}(?=[\\r\\n\\u2028\\u2029]*(?![\\s\\S])))`;

/** `Label: value` at the start of a line, the value as written (blanks around it dropped). */
export function fieldValue(text: string, label: string): string | null {
  const m = new RegExp(`^${HS}*${label}:\\s*${VALUE}`, 'm').exec(text);
  return m ? m[1]! : null;
}

/** The two hex numbers of an epoch-block line (`Calendar: 0x… 0x…`), or null. */
export function epochHex(text: string, label: string): [string, string] | null {
  const m = new RegExp(`^${HS}*${label}\\s*:\\s*0x([0-9a-fA-F]+)\\s+0x([0-9a-fA-F]+)`, 'm').exec(text);
  return m ? [m[1]!, m[2]!] : null;
}

/**
 * Whether the text says anything a kernel panic log says: a panic line, the panicked task or thread,
 * the compressor, paniclog or kernel version lines, the epoch block, a backtrace. A `.panic` file with
 * none of these (an empty body, a header alone, unrelated text) is not a kernel panic.
 */
const PANIC_TEXT = new RegExp(
  `panic\\(cpu|Darwin Kernel Version|^${HS}*(?:Panicked (?:task|thread)|Compressor Info:|Paniclog version:|Debugger message:|Epoch Time:|Kernel Extensions in backtrace|Backtrace \\(CPU)`,
  'm',
);
export const hasPanicText = (text: string): boolean => PANIC_TEXT.test(text);

const TASK = new RegExp(
  `Panicked task(?: 0x[0-9a-fA-F]+)?:\\s*(?:(\\d+) pages, (\\d+) threads:\\s*)?pid (\\d+):\\s*${VALUE}`,
  'm',
);

/** `Panicked task 0x…: N pages, M threads: pid P: name`. */
export function panickedTask(
  text: string,
): { pages: string | undefined; threads: string | undefined; pid: string; name: string } | null {
  const m = TASK.exec(text);
  return m ? { pages: m[1], threads: m[2], pid: m[3]!, name: m[4]! } : null;
}

const LINE_END = /[\r\n\u2028\u2029]/g;
const WORD = /\w/;
const lineEnd = (text: string, from: number): number => {
  LINE_END.lastIndex = from;
  return LINE_END.exec(text)?.index ?? text.length;
};

/**
 * The `tid:` of the first `Panicked thread:` line that has one after the label: the last one on that line
 * (as `Panicked thread:.*\btid:\s*(\d+)` finds it). Each line is searched once.
 */
export function panickedThreadTid(text: string): number | null {
  const label = 'Panicked thread:';
  const digits = /\s*(\d+)/y;
  let searched = -1;
  for (let p = text.indexOf(label); p >= 0; p = text.indexOf(label, p + 1)) {
    if (p < searched) continue; // A later label on a line already searched finds a subset of the same.
    const from = p + label.length;
    const end = lineEnd(text, from);
    searched = end;
    // From the last `tid:` on the line back: `\b` before it (not after a word character), then digits.
    for (let at = text.lastIndexOf('tid:', end - 4); at >= from; at = text.lastIndexOf('tid:', at - 1)) {
      if (WORD.test(text[at - 1]!)) continue;
      digits.lastIndex = at + 4;
      const d = digits.exec(text);
      if (d) return finiteNumber(d[1]);
    }
  }
  return null;
}

const VERSION = /(\d+\.\d+(?:\.\d+)?)/y;
const XNU = /;\s*root:xnu-([\w.~-]+?)\/RELEASE_\w+?(?:_(T\d{4}))?\b/y;

/**
 * `Darwin Kernel Version 25.2.0: …; root:xnu-12377.61.12~1/RELEASE_ARM64_T6041`: the Darwin version, the
 * xnu version and the kernel family. What lies between the version and the first `;` after it is skipped
 * (the build date), so labels that share a `;` share its search, and each `;` is tried once.
 */
export function kernelVersion(
  text: string,
): { darwin: string; xnu: string; family: string | undefined } | null {
  const label = 'Darwin Kernel Version ';
  let semi = -1;
  let failed = -1;
  for (let p = text.indexOf(label); p >= 0; p = text.indexOf(label, p + 1)) {
    VERSION.lastIndex = p + label.length;
    const v = VERSION.exec(text);
    if (!v) continue;
    if (semi < VERSION.lastIndex) semi = text.indexOf(';', VERSION.lastIndex);
    if (semi < 0) return null;
    if (semi === failed) continue;
    XNU.lastIndex = semi;
    const x = XNU.exec(text);
    if (x) return { darwin: v[1]!, xnu: x[1]!, family: x[2] };
    failed = semi;
  }
  return null;
}
