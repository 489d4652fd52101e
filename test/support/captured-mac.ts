/**
 * A Mac made of captured command outputs (test/fixtures/macos), for the darwin command readers. The fake runner
 * answers by program, not by the exact command line the code sends: it reads the arguments as the macOS tool
 * would (which sysctl oids, which ps keywords in which order, which pids for top and footprint) and renders the
 * captured figures accordingly, so a reader may order or choose its flags as it likes, and a flag the tool would
 * not understand, or a form no capture covers, is an error rather than a silent pass.
 *
 * What comes from where (each file's SOURCES.md says who printed it, on what machine):
 * - sysctl: the oids of `sysctl-hw-machdep.m1pro.macos12` (a 16 GiB M1 Pro), plus the single-oid captures
 *   (`vm.swapusage`, `kern.memorystatus_vm_pressure_level`, `iogpu.wired_limit_mb` as set, the new value).
 *   No capture of `kern.memorystatus_level` or `hw.memsize_usable` exists for that Mac: they are unknown oids.
 * - vm_stat, ps, top's header: the useful-system-monitor author's Mac (16 GiB, Apple silicon). The process
 *   table joins its `ps -Ao pid,lstart,user,state,comm` and `ps -Ao pid,ppid,time,rss` captures by pid; its
 *   argv was not captured, so `args` prints the executable path, and %CPU was not captured (printed 0.0).
 * - memory_pressure -Q, ioreg, footprint, uname -a, kmutil: their single captures.
 * - EXO: no capture of an EXO process table exists; the test passes its own rows (`extraProcesses`).
 */
import type { CommandResult, CommandRunner } from '../../src/main/core/probes/command-runner.js';
import { fixture } from './fixtures.js';

export interface CapturedProcess {
  pid: number;
  ppid: number;
  /** As ps prints `lstart` in the C locale: `Sat Aug  1 17:46:44 2026`. */
  lstart: string;
  /** The executable path (ps `comm` on macOS). */
  comm: string;
  /** The command line as ps `args` prints it (argv joined with spaces). */
  args: string;
  /** The owner's name as ps `user` prints it; absent: the Mac's login user. */
  user?: string;
  rssKiB: number;
  cpuPercent: number;
  /** phys_footprint as top prints MEM (`2048M+`); absent: top does not list the process. */
  topMem?: string;
  /** A footprint capture (path under test/fixtures) this pid answers `footprint -p` with. */
  footprintFixture?: string;
}

export interface CapturedMacOptions {
  /** Replace or remove (null) sysctl oids. */
  sysctl?: Record<string, string | null>;
  /** Processes added to the captured table (EXO's, which no capture has). */
  extraProcesses?: CapturedProcess[];
  /** Make one program fail as a hung or missing command would. */
  failing?: Record<string, string>;
}

/** Where macOS keeps each program the readers run; another path is "command not found", as on a Mac. */
export const MAC_PATHS: Record<string, string> = {
  sysctl: '/usr/sbin/sysctl',
  vm_stat: '/usr/bin/vm_stat',
  memory_pressure: '/usr/bin/memory_pressure',
  ioreg: '/usr/sbin/ioreg',
  ps: '/bin/ps',
  top: '/usr/bin/top',
  footprint: '/usr/bin/footprint',
  uname: '/usr/bin/uname',
  kmutil: '/usr/bin/kmutil',
};

const fail = (error: string): CommandResult => ({ ok: false, error });
/** What runCommand makes of an exit: stdout is kept on a non-zero exit when there is some, else an error. */
const ok = (stdout: string, stderr = '', exitCode = 0): CommandResult =>
  exitCode === 0 || stdout !== ''
    ? { ok: true, stdout, stderr, exitCode }
    : fail(stderr || `exit ${exitCode}`);

/** `name: value` lines (sysctl's output) into a map; a `-w` capture's `old -> new` keeps the new value. */
export function sysctlLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z][\w.]*): (.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.includes(' -> ') ? m[2]!.split(' -> ')[1]!.trim() : m[2]!.trim();
  }
  return out;
}

/** The captured oids (see the header for which Mac each comes from). */
export function capturedSysctl(): Record<string, string> {
  return {
    ...sysctlLines(fixture('macos/sysctl/sysctl-hw-machdep.m1pro.macos12.archspec.txt')),
    ...sysctlLines(fixture('macos/sysctl/sysctl-vm.swapusage.high.macos27.diskdiet.txt')),
    'kern.memorystatus_vm_pressure_level': fixture(
      'macos/sysctl/sysctl-n-kern.memorystatus_vm_pressure_level.m5pro.wtfssd.txt',
    ).trim(),
    ...sysctlLines(fixture('macos/sysctl/sysctl-w-iogpu.wired_limit_mb.m1max-32gb.llmfit-issue570.txt')),
  };
}

/** The captured process table: two ps captures of the same Mac joined by pid. */
export function capturedProcesses(): CapturedProcess[] {
  const started = new Map<number, { lstart: string; user: string; comm: string }>();
  for (const line of fixture('macos/ps/ps-Ao-pid,lstart,user,state,comm.useful-system-monitor.txt').split(
    '\n',
  )) {
    const m = /^\s*(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\s+(\S+)\s+\S+\s+(.+)$/.exec(line);
    if (m) started.set(Number(m[1]), { lstart: m[2]!, user: m[3]!, comm: m[4]!.trimEnd() });
  }
  const out: CapturedProcess[] = [];
  for (const line of fixture('macos/ps/ps-Ao-pid,ppid,time,rss.useful-system-monitor.txt').split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+\S+\s+(\d+)\s*$/.exec(line);
    const s = m ? started.get(Number(m[1])) : undefined;
    if (m && s)
      out.push({
        pid: Number(m[1]),
        ppid: Number(m[2]),
        lstart: s.lstart,
        comm: s.comm,
        args: s.comm,
        user: s.user,
        rssKiB: Number(m[3]),
        cpuPercent: 0,
      });
  }
  return out;
}

/** The capture's login user (macOS gives the first account uid 501). */
const LOGIN_USER = 'ziweiwu';

/**
 * The uid ps `uid` prints for an owner: the capture names owners, not their numbers. root is 0 and the login
 * user 501 as on every Mac; a service account (`_windowserver`, …) gets a stand-in number of its own below 500
 * (not necessarily the one macOS gives it): what a reader can tell from it is that it is neither.
 */
export function capturedUid(user: string | undefined): number {
  if (user === undefined || user === LOGIN_USER) return 501;
  if (user === 'root') return 0;
  let h = 0;
  for (const c of user) h = (h * 31 + c.charCodeAt(0)) % 397;
  return 100 + h;
}

/** ps's keywords (and their aliases) that the table can answer, with how each is printed. */
const PS_KEYWORDS: Record<string, { header: string; width: number; value: (p: CapturedProcess) => string }> =
  {
    pid: { header: 'PID', width: 5, value: (p) => String(p.pid) },
    ppid: { header: 'PPID', width: 5, value: (p) => String(p.ppid) },
    uid: { header: 'UID', width: 5, value: (p) => String(capturedUid(p.user)) },
    ruid: { header: 'RUID', width: 5, value: (p) => String(capturedUid(p.user)) },
    lstart: { header: 'STARTED', width: -28, value: (p) => p.lstart },
    rss: { header: 'RSS', width: 6, value: (p) => String(p.rssKiB) },
    '%cpu': { header: '%CPU', width: 4, value: (p) => p.cpuPercent.toFixed(1) },
    pcpu: { header: '%CPU', width: 4, value: (p) => p.cpuPercent.toFixed(1) },
    comm: { header: 'COMM', width: 0, value: (p) => p.comm },
    ucomm: { header: 'UCOMM', width: 0, value: (p) => p.comm.split('/').pop() ?? p.comm },
    args: { header: 'ARGS', width: 0, value: (p) => p.args },
    command: { header: 'COMMAND', width: 0, value: (p) => p.args },
  };

/**
 * `ps` over the table: -A/-e/-ax (all), -p LIST, -o KEYWORDS (repeatable, `=` hides a header), -w/-ww. A
 * reader's output is a pipe, never a terminal, and then macOS's ps prints every line whole, whatever -w or
 * COLUMNS say (its ps.c sets an unlimited width when stdout is not a tty, after reading both).
 */
function ps(args: string[], table: CapturedProcess[]): CommandResult {
  let all = false;
  let a = false;
  let x = false;
  const pids: number[] = [];
  const keywords: { name: string; header: string | null }[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-o' || arg === '-p') {
      const list = args[++i];
      if (list === undefined) return ok('', `ps: option requires an argument -- ${arg.slice(1)}`, 1);
      if (arg === '-p') {
        for (const p of list.split(/[ ,]/)) if (p !== '') pids.push(Number(p));
        continue;
      }
      // macOS ps splits the list on commas and spaces first; `keyword=text` then names that column's header
      // (the captured `ps -axo pid=,%cpu=,…,args=` prints every column and no header line).
      for (const token of list.split(/[ ,]/)) {
        if (token === '') continue;
        const eq = token.indexOf('=');
        keywords.push(
          eq >= 0 ? { name: token.slice(0, eq), header: token.slice(eq + 1) } : { name: token, header: null },
        );
      }
      continue;
    }
    if (!/^-[Aaewx]+$/.test(arg)) return fail(`/bin/ps: the captured Mac has no answer for ${arg}`);
    for (const f of arg.slice(1)) {
      if (f === 'A' || f === 'e') all = true;
      if (f === 'a') a = true;
      if (f === 'x') x = true;
    }
  }
  if (keywords.length === 0) return fail('/bin/ps: the captured Mac answers only -o keyword lists');
  const columns: { header: string; width: number; value: (p: CapturedProcess) => string }[] = [];
  for (const [i, k] of keywords.entries()) {
    const spec = PS_KEYWORDS[k.name];
    if (!spec) return ok('', `ps: ${k.name}: keyword not found\nps: no valid keywords; valid keywords:`, 1);
    // ps cuts a variable-width column that is not the last one: the readers must put it last.
    if (spec.width === 0 && i !== keywords.length - 1)
      return fail(`/bin/ps: ${k.name} is not the last column, ps would cut it`);
    columns.push({ ...spec, header: k.header ?? spec.header });
  }
  const rows = pids.length > 0 ? table.filter((p) => pids.includes(p.pid)) : all || (a && x) ? table : null;
  if (rows === null) return fail('/bin/ps: without -A, -ax or -p the captured Mac has only the caller');
  const render = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const w = columns[i]!.width;
        return w > 0 ? c.padStart(w) : w < 0 ? c.padEnd(-w) : c;
      })
      .join(' ')
      .trimEnd();
  const lines = rows.map((p) => render(columns.map((c) => c.value(p))));
  if (columns.some((c) => c.header !== '')) lines.unshift(render(columns.map((c) => c.header)));
  // ps exits 1 when a -p pid matched nothing.
  return ok(`${lines.join('\n')}\n`, '', pids.length > 0 && rows.length === 0 ? 1 : 0);
}

/** What the runner keeps of an answer when asked to cut its lines (`maxLineBytes`, command-runner.ts). */
function cutLines(r: CommandResult, maxLineBytes: number | undefined): CommandResult {
  if (!r.ok || maxLineBytes === undefined) return r;
  const cut = r.stdout
    .split('\n')
    .map((l) => Buffer.from(l).subarray(0, maxLineBytes).toString())
    .join('\n');
  return { ...r, stdout: cut };
}

/** `top -l N [-s S] -stats LIST [-pid P]...`: the captured header, then the requested columns. */
function top(args: string[], table: CapturedProcess[]): CommandResult {
  let samples = 0;
  let stats: string[] = [];
  const pids: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (arg === '-l' && value !== undefined) samples = Number(value);
    else if (arg === '-s' && value !== undefined && /^\d+$/.test(value)) {
      // the delay between samples: no bearing on what is printed
    } else if (arg === '-stats' && value !== undefined) stats = value.split(',');
    else if (arg === '-pid' && value !== undefined) pids.push(Number(value));
    else return fail(`/usr/bin/top: the captured Mac has no answer for ${arg}`);
    i++;
  }
  // Without -l top is interactive and never exits.
  if (!(samples >= 1)) return fail('/usr/bin/top -l is needed: an interactive top never exits');
  const known: Record<string, { header: string; value: (p: CapturedProcess) => string }> = {
    pid: { header: 'PID', value: (p) => String(p.pid) },
    mem: { header: 'MEM', value: (p) => p.topMem ?? '' },
    command: { header: 'COMMAND', value: (p) => (p.comm.split('/').pop() ?? '').slice(0, 16) },
  };
  const columns = stats.map((s) => known[s]);
  if (stats.length === 0 || columns.some((c) => c === undefined))
    return fail(`/usr/bin/top -stats ${stats.join(',')}: the captured Mac answers pid, command and mem`);
  // The header block of the useful-system-monitor capture (the same Mac as the process table).
  const captured = fixture('macos/top/top-l2-o-power-stats-pid,power.useful-system-monitor.txt');
  const header = captured.slice(0, captured.indexOf('\n\n'));
  const rows = table.filter((p) => p.topMem !== undefined && (pids.length === 0 || pids.includes(p.pid)));
  const block = [
    header,
    '',
    columns
      .map((c) => c!.header.padEnd(7))
      .join('')
      .trimEnd(),
    ...rows.map((p) =>
      columns
        .map((c) => c!.value(p).padEnd(7))
        .join('')
        .trimEnd(),
    ),
  ].join('\n');
  return ok(`${Array.from({ length: samples }, () => block).join('\n\n')}\n`);
}

/** A runner over the captured Mac, and the command lines it was asked (for "never ran X" checks). */
export function capturedMac(options: CapturedMacOptions = {}): {
  runner: CommandRunner;
  calls: string[];
  programs: () => string[];
} {
  const oids: Record<string, string | null> = { ...capturedSysctl(), ...options.sysctl };
  const table = [...capturedProcesses(), ...(options.extraProcesses ?? [])];
  const calls: string[] = [];
  const runner: CommandRunner = async (file, args, runOptions) => {
    calls.push([file, ...args].join(' '));
    const program = file.split('/').pop() ?? file;
    const where = MAC_PATHS[program];
    if (!where || (file !== program && file !== where)) return fail(`${file}: command not found`);
    const failing = options.failing?.[program];
    if (failing) return fail(`${file} ${args.join(' ')}: ${failing}`);
    switch (program) {
      case 'sysctl': {
        const names = args.filter((a) => !a.startsWith('-'));
        const flags = args.filter((a) => a.startsWith('-'));
        if (flags.some((f) => f !== '-n'))
          return fail(`/usr/sbin/sysctl ${flags.join(' ')}: the captured Mac answers names and -n`);
        if (names.some((n) => n.includes('=')))
          return fail('/usr/sbin/sysctl: a reader must never set a sysctl');
        const out: string[] = [];
        const err: string[] = [];
        for (const n of names) {
          const v = oids[n];
          if (v === undefined || v === null) err.push(`sysctl: unknown oid '${n}'`);
          else out.push(flags.includes('-n') ? v : `${n}: ${v}`);
        }
        return ok(out.length ? `${out.join('\n')}\n` : '', err.join('\n'), err.length ? 1 : 0);
      }
      case 'vm_stat':
        // `vm_stat N` repeats every N seconds and never exits.
        if (args.length > 0)
          return fail(`/usr/bin/vm_stat ${args.join(' ')}: only one plain reading is captured`);
        return ok(fixture('macos/vm_stat/vm_stat.wide-53col.useful-system-monitor.txt'));
      case 'memory_pressure':
        // -l and -p allocate memory to simulate pressure: a reader must never ask for them.
        if (args.join(' ') !== '-Q')
          return fail(`/usr/bin/memory_pressure ${args.join(' ')}: only -Q is captured (and safe)`);
        return ok(fixture('macos/memory_pressure/memory_pressure-Q.macos27.48gb.diskdiet.txt'));
      case 'ioreg': {
        const c = args.indexOf('-c');
        if (c < 0 || args[c + 1] !== 'IOAccelerator' || args.includes('-a') || args.includes('-x'))
          return fail(
            `/usr/sbin/ioreg ${args.join(' ')}: only the text listing of class IOAccelerator is captured`,
          );
        return ok(fixture('macos/ioreg/ioreg-r-c-IOAccelerator-d1.m4pro.macos26.sonar.txt'));
      }
      case 'ps':
        return cutLines(ps(args, table), runOptions?.maxLineBytes);
      case 'top':
        return top(args, table);
      case 'footprint': {
        const p =
          args.length === 2 && args[0] === '-p' ? Number(args[1]) : args.length === 1 ? Number(args[0]) : NaN;
        if (!Number.isInteger(p))
          return fail(`/usr/bin/footprint ${args.join(' ')}: only one pid (-p PID or PID) is captured`);
        const found = table.find((x) => x.pid === p)?.footprintFixture;
        return found ? ok(fixture(found)) : ok('', `footprint: could not find process ${p}`, 1);
      }
      case 'uname':
        if (args.join(' ') !== '-a') return fail(`/usr/bin/uname ${args.join(' ')}: only -a is captured`);
        return ok(fixture('macos/identity/uname-a.t6031-kernel.macos15.0.rosetta-shell.dorothy-pr243.txt'));
      case 'kmutil':
        if (args[0] !== 'showloaded')
          return fail(`/usr/bin/kmutil ${args.join(' ')}: only showloaded is captured`);
        return ok(fixture('macos/kext/kmutil-showloaded.bigsur-beta-intel.chris1111-issue14.EXCERPT.txt'));
      default:
        return fail(`${file}: command not found`);
    }
  };
  return { runner, calls, programs: () => calls.map((c) => c.split(' ')[0]!.split('/').pop()!) };
}
