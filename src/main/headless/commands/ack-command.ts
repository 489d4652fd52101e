import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { AckResult } from '../../../shared/api-contracts.js';
import { AuditStore } from '../../core/actions/audit-store.js';
import { acknowledgeHold } from '../../core/actions/post-panic-hold.js';
import { resolveDataDir } from '../../core/config/data-dir.js';
import { askDaemon, findDaemon } from '../daemon-client.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { openStores } from './store-access.js';

const fail = (message: string): void => {
  process.stderr.write(`exo-sentinel: ${message}\n`);
  process.exitCode = EXIT_FAILURE;
};

/** Ends the hold: through the running daemon's API when there is one, else in the database itself. */
async function acknowledge(dataDirFlag: string | undefined): Promise<AckResult | null> {
  const daemon = findDaemon(resolveDataDir(dataDirFlag));
  if (daemon) {
    const r = await askDaemon<AckResult>(daemon, 'POST', '/api/v1/ack');
    if (!r.ok) fail(r.message);
    return r.ok ? r.body : null;
  }
  const s = openStores(dataDirFlag, 'write');
  if ('error' in s) {
    fail(s.error);
    return null;
  }
  try {
    return { ended: acknowledgeHold(s.timeline, new AuditStore(s.db), Date.now(), userInfo().username) };
  } finally {
    s.db.close();
  }
}

export function registerAck(program: Command): void {
  program
    .command('ack')
    .description('acknowledge the last panic: end the post-panic hold (safe mode)')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const r = await acknowledge(f.dataDir);
      if (!r) return;
      const { ended } = r;
      if (f.json) process.stdout.write(`${JSON.stringify({ ended })}\n`);
      else
        process.stdout.write(
          ended
            ? `post-panic hold ended (it began ${new Date(ended.since).toISOString()}: ${ended.reason})\n`
            : 'no post-panic hold is active\n',
        );
    });
}
