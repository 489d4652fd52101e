/**
 * macOS build identifiers (`25E253`, `25F84`, `25E5233c`, `24G517`) compared by their parts, not as strings:
 * a string compare puts `25E99` after `25E253` and `9A1` after `25F84`. A build is the major number (the
 * Darwin major: 24 = macOS 15, 25 = macOS 26), a train letter (A = x.0, B = x.1, …), a build number, and an
 * optional lowercase suffix (betas and Rapid Security Responses: `25E5233c`). This is an order of build
 * identifiers, not of release dates: a beta's build number (5233) sorts after the release of its train
 * (246), as Apple numbers them.
 */
export interface MacosBuild {
  major: number;
  letter: string;
  number: number;
  /** '' when absent; sorts before 'a'. */
  suffix: string;
}

/** The longest accepted identifier: builds are 5-9 characters; bounded so a hostile string costs nothing. */
const MAX_LENGTH = 16;
const BUILD = /^(\d{1,3})([A-Z])(\d{1,6})([a-z]?)$/;

/** A build's parts, or null for anything that is not one (never throws). Leading zeros are accepted. */
export function parseMacosBuild(text: string): MacosBuild | null {
  if (typeof text !== 'string' || text.length > MAX_LENGTH) return null;
  const m = BUILD.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), letter: m[2]!, number: Number(m[3]), suffix: m[4]! };
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);
const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two parsed builds: major, letter, number, suffix (none before a, b, …). */
export function compareParsedBuilds(a: MacosBuild, b: MacosBuild): number {
  return (
    sign(a.major - b.major) ||
    cmpStr(a.letter, b.letter) ||
    sign(a.number - b.number) ||
    cmpStr(a.suffix, b.suffix)
  );
}

/**
 * A total order on strings (-1, 0, 1): builds by their parts; two spellings of one build (`25E099`,
 * `25E99`) by their text, so only equal strings compare equal; anything that is not a build after every
 * build, by its text.
 */
export function compareMacosBuilds(a: string, b: string): number {
  const pa = parseMacosBuild(a);
  const pb = parseMacosBuild(b);
  if (pa && pb) return compareParsedBuilds(pa, pb) || cmpStr(a, b);
  if (pa) return -1;
  if (pb) return 1;
  return cmpStr(a, b);
}

/**
 * `build` is at or after `reference` by their parts; null when either is not a build (a verdict must not
 * rest on an identifier it cannot read).
 */
export function buildAtLeast(build: string, reference: string): boolean | null {
  const a = parseMacosBuild(build);
  const b = parseMacosBuild(reference);
  if (!a || !b) return null;
  return compareParsedBuilds(a, b) >= 0;
}

/**
 * Dotted numeric versions (IOGPUFamily `129.3.2`, `130.13`, `130.15.2`, `162.11`) by their numbers; a
 * missing part counts as 0 (`130.13` = `130.13.0`); null when either is not such a version.
 */
export function compareDottedVersions(a: string, b: string): number | null {
  const re = /^\d{1,6}(\.\d{1,6}){0,5}$/;
  if (!re.test(a) || !re.test(b)) return null;
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = sign((pa[i] ?? 0) - (pb[i] ?? 0));
    if (d !== 0) return d;
  }
  return 0;
}
