/**
 * One real kernel panic (written a minute ago, an IOGPU kind: it starts the post-panic hold) among `files`
 * junk files an outsider dropped, named to sort before it (`a-NNNNNN.panic`: text with no panic in it;
 * `a-NNNNNN.ips`: a report of another bug_type). An in-process daemon (API on, guard off, its logger
 * writing its file at `info`) starts on the directory. Measured from the call to begin(): when the first
 * sample is published, when the panic's row is in the ledger (a read-only connection asks every 10 ms),
 * when a published judgement carries the post-panic hold, and the log lines and timeline events the junk
 * cost (after one more rescan). Rescans are asked back to back through POST /api/v1/panics/scan while the
 * panic is not found (the daemon itself rescans every reports.rescanSeconds, 60 s by default).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../src/main/core/logger.js';
import { openDatabase } from '../src/main/core/store/database.js';
import { fixture } from '../test/support/fixtures.js';
import { freePort } from '../test/support/free-port.js';
import { reportWatchingDaemon } from '../test/support/local-daemon.js';
import { appleTimestamp, wrapAsPanicFile } from '../test/support/panic-file.js';
import { tempDir } from '../test/support/temp-dir.js';

function junkCorpus(files: number): string {
  const dir = join(tmpdir(), `exo-sentinel-hidden-panic-${files}`);
  if (!existsSync(`${dir}.complete`)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < files; i++) {
      const n = String(i).padStart(6, '0');
      if (i % 2 === 0) writeFileSync(join(dir, `a-${n}.panic`), `junk ${n}\n`);
      else writeFileSync(join(dir, `a-${n}.ips`), `{"bug_type":"288","name":"a${n}"}\n{}`);
    }
    writeFileSync(`${dir}.complete`, '');
  }
  for (const name of readdirSync(dir)) if (name.startsWith('panic-full-')) rmSync(join(dir, name));
  return dir;
}

/** `panic-full-YYYY-MM-DD-HHMMSS.0002.panic` as macOS names a panic of `time` (UTC here). */
function panicName(time: number): string {
  const t = appleTimestamp(time);
  return `panic-full-${t.slice(0, 10)}-${t.slice(11, 19).replaceAll(':', '')}.0002.panic`;
}

export async function hiddenPanic(files: number): Promise<Record<string, unknown>> {
  const dir = junkCorpus(files);
  const panicAt = Date.now() - 60_000;
  writeFileSync(
    join(dir, panicName(panicAt)),
    wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: panicAt }),
  );
  const data = tempDir('exo-sentinel-hidden-bench-');
  const port = await freePort();
  const logFile = join(data.path, 'daemon.log');
  const { logger, close } = await createLogger({ level: 'info', file: logFile, terminal: false });
  const daemon = await reportWatchingDaemon({
    dataDir: data.path,
    reports: dir,
    config: { intervalSeconds: 1, api: { enabled: true, listen: `127.0.0.1:${port}` } },
    logger,
  });
  const t0 = performance.now();
  const at: { firstSample?: number; held?: number; ingested?: number } = {};
  daemon.onPublish = (m) => {
    if (m.event !== 'sample') return;
    at.firstSample ??= performance.now() - t0;
    if (m.data.reasons.some((r) => r.signal === 'post-panic-hold')) at.held ??= performance.now() - t0;
  };
  const reader: { db: ReturnType<typeof openDatabase> | null } = { db: null };
  const poll = setInterval(() => {
    reader.db ??= existsSync(join(data.path, 'timeline.db'))
      ? openDatabase(join(data.path, 'timeline.db'), { readonly: true })
      : null;
    const row = reader.db?.prepare("SELECT 1 FROM reports WHERE category = 'panic'").get();
    if (row) at.ingested ??= performance.now() - t0;
  }, 10);
  const begun = await daemon.begin();
  const beginMs = Math.round(performance.now() - t0);
  if (!begun.ok) throw new Error(begun.error);
  daemon.start();
  const api = `http://127.0.0.1:${port}/api/v1`;
  const scan = () => fetch(`${api}/panics/scan`, { method: 'POST', body: '{}' }).then((r) => r.json());
  let asked = 0;
  while (at.ingested === undefined && asked < 12) {
    await scan();
    asked++;
  }
  while (at.held === undefined && performance.now() - t0 < 600_000) await sleep(50);
  await scan();
  await sleep(1500);
  clearInterval(poll);
  const count = (sql: string): number => (reader.db?.prepare(sql).get() as { n: number } | undefined)?.n ?? 0;
  const reportEvents = count("SELECT count(*) AS n FROM events WHERE kind LIKE 'report.%'");
  reader.db?.close();
  await daemon.stop('bench');
  await close();
  // The log rotates at 10 MB: the rotated files (daemon.1.log, …) count too.
  const logs = readdirSync(data.path).filter((n) => /^daemon(\.\d+)?\.log$/.test(n));
  const lines = logs.flatMap((n) => readFileSync(join(data.path, n), 'utf8').split('\n').filter(Boolean));
  data.cleanup();
  const ms = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v));
  return {
    files,
    beginMs,
    firstSampleMs: ms(at.firstSample),
    panicIngestedMs: ms(at.ingested),
    postPanicHoldMs: ms(at.held),
    rescansAsked: asked,
    logFiles: logs.length,
    logLines: lines.length,
    /** Lines naming a junk file (a per-file line names one; a summary names a few). */
    junkLogLines: lines.filter((l) => l.includes('a-0')).length,
    reportEvents,
  };
}
