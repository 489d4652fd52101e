import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { PanicScanDirView, PanicScanView } from '../../../shared/api-contracts.js';
import type { ReportCategory, ReportRecord } from '../../../shared/reports.js';
import { loadConfig } from '../../core/config/config-loader.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { parsePanicReport } from '../../core/panics/panic-parser.js';
import { readContainer } from '../../core/panics/report-container.js';
import { readReportFile } from '../../core/panics/report-file-reader.js';
import {
  defaultReportDirs,
  MACOS_REPORTS,
  NOT_A_PANIC,
  REPORTS_AND_PASTED_COPIES,
  ReportIngester,
} from '../../core/panics/report-ingester.js';
import { scanDirectory, scanLimitedText } from '../../core/panics/report-scan.js';
import { parseJetsamEvent, parseUserCrash } from '../../core/panics/user-crash-parser.js';
import { askDaemon, findDaemon } from '../daemon-client.js';
import { shown, table } from '../output.js';
import { startProgress } from '../progress.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../usage-error.js';
import { openStores } from './store-access.js';

const when = (r: ReportRecord): string =>
  new Date(r.panicTime ?? r.mtime).toISOString().replace('T', ' ').slice(0, 19) + (r.panicTime ? '' : '*');

export function renderReports(rows: ReportRecord[]): string {
  if (rows.length === 0) return 'no reports';
  return table(
    ['ID', 'TIME (UTC)', 'CATEGORY', 'KIND', 'PID', 'PROCESS', 'WAS', 'STATUS', 'FILE'],
    rows.map((r) => [
      String(r.id),
      when(r),
      r.category ?? '—',
      r.kind ?? '—',
      r.pid === null ? '—' : String(r.pid),
      r.processName ?? '—',
      r.attribution ? `${r.attribution.verdict} (${r.attribution.confidence})` : '—',
      r.status,
      r.name,
    ]),
  );
}

const CATEGORIES: ReportCategory[] = ['panic', 'jetsam', 'crash', 'other'];

export function registerPanics(program: Command): void {
  const panics = program
    .command('panics')
    .description('kernel panic reports, JetsamEvents and crashes of the watched processes');
  registerList(panics);
  registerScan(panics);
  registerInspect(panics);
}

/** `panics list`: the ledger, read-only. */
function registerList(panics: Command): void {
  panics
    .command('list')
    .description(
      'the reports found so far (newest first); * marks a time taken from the file, not the report',
    )
    .option('--json', 'print JSON')
    .option('--all', 'include skipped files (other bug types, crashes of unwatched processes)')
    .option('--category <c>', `only one category: ${CATEGORIES.join(', ')}`, (v: string) => {
      if (!CATEGORIES.includes(v as ReportCategory))
        throw new InvalidArgumentError(`expected one of ${CATEGORIES.join(', ')}, got "${v}"`);
      return v;
    })
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{
        json?: boolean;
        all?: boolean;
        category?: ReportCategory;
        dataDir?: string;
      }>();
      const s = openStores(f.dataDir, 'read');
      if ('error' in s) {
        if (f.json) process.stdout.write('[]\n');
        else process.stderr.write(`exo-sentinel: ${s.error}\n`);
        process.exitCode = f.json ? 0 : EXIT_FAILURE;
        return;
      }
      const rows = s.reports
        .list(f.category ? { category: f.category } : {})
        .filter((r) => f.all || r.status !== 'skipped');
      s.db.close();
      process.stdout.write(f.json ? `${JSON.stringify(rows, null, 2)}\n` : `${renderReports(rows)}\n`);
    });
}

interface ScanFlags {
  dir?: string[];
  json?: boolean;
  dataDir?: string;
}

/** `panics scan`: through the running daemon's API when there is one (it is the ledger's one writer). */
function registerScan(panics: Command): void {
  panics
    .command('scan')
    .description(
      `scan report directories now and ingest what is new (each report exactly once); reads ${MACOS_REPORTS.globs.join(' and ')}, and with --dir also pasted copies (*.txt)`,
    )
    .option(
      '--dir <dir>',
      `a directory to scan for ${REPORTS_AND_PASTED_COPIES.globs.join(', ')} (repeatable; default: the configured or platform directories, ${MACOS_REPORTS.globs.join(' and ')} only)`,
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<ScanFlags>();
      const daemon = findDaemon(resolveDataDir(f.dataDir));
      const results = daemon
        ? await askDaemon<PanicScanView>(
            daemon,
            'POST',
            '/api/v1/panics/scan',
            f.dir ? { dirs: f.dir.map((d) => resolve(d)) } : {},
          ).then((r) => {
            if (!r.ok) {
              process.stderr.write(`exo-sentinel: ${r.message}\n`);
              process.exitCode = EXIT_FAILURE;
            }
            return r.ok ? r.body.results : null;
          })
        : await scanHere(f);
      if (results) printScan(results, f.json === true, f.dir !== undefined);
    });
}

/** No daemon runs: the scan writes the ledger itself (the configured or platform directories, or --dir). */
async function scanHere(f: ScanFlags): Promise<PanicScanDirView[] | null> {
  const dataDir = resolveDataDir(f.dataDir);
  const config = loadConfig(paths(dataDir).config);
  if (!config.ok) {
    for (const e of config.errors) process.stderr.write(`exo-sentinel: ${e}\n`);
    process.exitCode = EXIT_USAGE;
    return null;
  }
  const dirs = f.dir ?? config.config.reports.dirs ?? defaultReportDirs();
  if (dirs.length === 0) {
    process.stderr.write('exo-sentinel: no report directory to scan on this platform; name one with --dir\n');
    process.exitCode = EXIT_USAGE;
    return null;
  }
  const s = openStores(f.dataDir, 'write');
  if ('error' in s) {
    process.stderr.write(`exo-sentinel: ${s.error}\n`);
    process.exitCode = EXIT_FAILURE;
    return null;
  }
  const ingester = new ReportIngester(s.reports, s.timeline);
  // A directory named by hand may hold copies pasted from issues; the platform ones hold what macOS writes.
  const names = f.dir ? REPORTS_AND_PASTED_COPIES : MACOS_REPORTS;
  const progress = startProgress('panics scan');
  try {
    const results: PanicScanDirView[] = [];
    for (const [i, d] of dirs.entries()) {
      progress.update(`${resolve(d)} (${i + 1}/${dirs.length})`);
      // Asked for by a person, with no daemon to share the machine with: every file is read.
      results.push(await scanDirectory(ingester, resolve(d), { names, limits: { maxReads: Infinity } }));
    }
    return results;
  } finally {
    progress.done();
    s.db.close();
  }
}

/** A directory named with --dir must be there; one of the platform's defaults may be missing. */
function printScan(results: PanicScanDirView[], json: boolean, named: boolean): void {
  if (results.some((r) => r.error && (named || !/does not exist/.test(r.error))))
    process.exitCode = EXIT_FAILURE;
  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const r of results) {
    const notPanics = r.added.filter((a) => a.problem === NOT_A_PANIC).length;
    const summary = `${r.files} files (${r.names.join(', ')}), ${r.added.length} new${notPanics ? `, ${notPanics} not a kernel panic` : ''}`;
    process.stdout.write(`${shown(r.dir)}: ${shown(r.error ?? summary)}\n`);
    if (r.limited) process.stdout.write(`  ${scanLimitedText(r.limited)}\n`);
    if (r.added.length) process.stdout.write(`${renderReports(r.added).replace(/^/gm, '  ')}\n`);
  }
}

/** `panics inspect <file>`: parse and classify one file, nothing stored. */
function registerInspect(panics: Command): void {
  panics
    .command('inspect')
    .argument('<file>', 'a .panic or .ips report, or a pasted copy of one (.txt or any other name)')
    .description('parse and classify one report file without storing it')
    .option('--json', 'print one JSON object')
    .action((file: string, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean }>();
      const out = inspectFile(file);
      if (!out) return;
      if (f.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else if (out.problem === NOT_A_PANIC) process.stdout.write(`${file}: ${NOT_A_PANIC}\n`);
      else process.stdout.write(`${renderInspection(out).join('\n')}\n`);
    });
}

type Inspection = ReturnType<typeof parsePanicReport> & {
  file: string;
  size: number;
  truncatedRead: boolean;
  category: string;
  problem?: string;
};

/** One file read and classified, or null with the reason printed. */
function inspectFile(file: string): Inspection | null {
  const path = resolve(file);
  if (!existsSync(path)) {
    process.stderr.write(`exo-sentinel: ${file}: no such file\n`);
    process.exitCode = EXIT_FAILURE;
    return null;
  }
  const isDir = statSync(path).isDirectory();
  const read = isDir ? null : readReportFile(path, dirname(path));
  if (read === null || read.ok === false) {
    process.stderr.write(`exo-sentinel: ${file}: ${read ? read.problem : 'is a directory'}\n`);
    process.exitCode = EXIT_FAILURE;
    return null;
  }
  const info = parsePanicReport(read.text);
  const bug = readContainer(read.text.slice(0, 4096)).bugType;
  const category =
    bug === '298' ? 'jetsam' : bug === '309' ? 'crash' : bug === null || bug === '210' ? 'panic' : 'other';
  const notAPanic = category === 'panic' && !info.hasPanicText;
  return {
    file: path,
    size: read.size,
    truncatedRead: read.truncated,
    category: notAPanic ? 'other' : category,
    ...(notAPanic ? { problem: NOT_A_PANIC } : {}),
    ...info,
    ...(bug === '298' ? { jetsam: parseJetsamEvent(read.text) } : {}),
    ...(bug === '309' ? { crash: parseUserCrash(read.text) } : {}),
  };
}

function renderInspection(out: Inspection): string[] {
  const lines = [
    `kind          ${out.kind}`,
    `panic line    ${out.panicLine ?? '—'}`,
    `panic time    ${out.panicTime ?? 'unknown'}${out.panicTimeSource ? ` (${out.panicTimeSource})` : ''}`,
    `macOS build   ${out.osBuild ?? '—'}${out.osVersion ? ` (${out.osVersion})` : ''}`,
    `Darwin / xnu  ${out.darwinVersion ?? '—'} / ${out.xnuVersion ?? '—'}`,
    `kernel family ${out.kernelFamily ?? '—'}`,
    `IOGPUFamily   ${out.iogpuFamilyVersion ?? '—'}`,
    `process       ${out.process ? `pid ${out.process.pid}: ${out.process.name}` : '—'}${out.task?.pages ? ` (${out.task.pages} pages, ${out.task.threads} threads)` : ''}`,
    `compressor    ${out.compressorInfo?.text ?? '—'}`,
  ];
  // Everything after the label comes from the file.
  return lines.map((l) => `${l.slice(0, 14)}${shown(l.slice(14))}`);
}
