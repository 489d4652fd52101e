import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { buildCrashReport } from '../../core/report/report-builder.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../usage-error.js';
import { openStores } from './store-access.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('[panic-id]', 'a report id from `exo-sentinel panics list`', (v: string) => {
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
        throw new InvalidArgumentError(`expected a report id (a whole number), got "${v.slice(0, 40)}"`);
      return Number(v);
    })
    .description('write a Markdown crash report for a panic, ready to paste into an EXO or MLX issue')
    .option('--latest', 'the most recent panic')
    .option('--out <file>', 'write to a file instead of standard output')
    .action((id: number | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ latest?: boolean; out?: string; dataDir?: string }>();
      if ((id === undefined) === !f.latest) {
        process.stderr.write('exo-sentinel report: give a report id or --latest (one of them)\n');
        process.exitCode = EXIT_USAGE;
        return;
      }
      const s = openStores(f.dataDir, 'read');
      if ('error' in s) {
        process.stderr.write(`exo-sentinel: ${s.error}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      try {
        const rec = id !== undefined ? s.reports.get(id) : s.reports.latestPanic();
        if (!rec) {
          process.stderr.write(
            id !== undefined
              ? `exo-sentinel: no report with id ${id}\n`
              : 'exo-sentinel: no panic has been recorded\n',
          );
          process.exitCode = EXIT_FAILURE;
          return;
        }
        if (rec.category !== 'panic' || rec.status !== 'ingested') {
          process.stderr.write(
            `exo-sentinel: report ${rec.id} is a ${rec.status} ${rec.category ?? 'file'}, not a readable kernel panic${rec.problem ? `: ${rec.problem}` : ''}\n`,
          );
          process.exitCode = EXIT_FAILURE;
          return;
        }
        const md = buildCrashReport(rec, s.timeline, s.reports, Date.now());
        if (f.out) {
          try {
            writeFileSync(f.out, md);
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            process.stderr.write(
              `exo-sentinel report: cannot write ${f.out}: ${err.code === 'ENOENT' ? 'its directory does not exist' : (err.code ?? err.message)}\n`,
            );
            process.exitCode = EXIT_FAILURE;
            return;
          }
          process.stdout.write(`wrote ${f.out}\n`);
        } else process.stdout.write(md);
      } finally {
        s.db.close();
      }
    });
}
